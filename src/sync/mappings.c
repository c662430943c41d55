/* Practitioner mappings and appointment-type flags: see include/pmsync/mappings.h. */
#include "pmsync/mappings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/names.h"

int pms_catalog_refresh(pms_store *st, const pms_keyring *ring, const pms_connection *c,
                        const pms_session_options *opts, bool practitioners, bool types,
                        bool *practitioners_listed, pms_error *err)
{
    if (practitioners_listed)
        *practitioners_listed = true;
    pms_session *s = NULL;
    pms_token_box *box = NULL;
    int rc = pms_connection_open_session(st, ring, c, opts, &box, &s, err);
    if (rc == PMS_OK && practitioners) {
        rc = pms_catalog_refresh_practitioners(st, s, c, NULL, err);
        if (rc == PMS_ERR_NOT_SUPPORTED) {
            if (practitioners_listed)
                *practitioners_listed = false;
            rc = PMS_OK;
        }
    }
    if (rc == PMS_OK && types)
        rc = pms_catalog_refresh_types(st, s, c, err);
    if (s)
        pms_token_box_save(box, st, ring, c->id, NULL);
    pms_session_close(s);
    pms_token_box_free(box);
    return rc;
}

static json_t *suggestions(const pms_mapping *m, const pms_clinician_list *clinicians)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < clinicians->count && m->pms_practitioner_name; i++) {
        double score = pms_name_similarity(m->pms_practitioner_name, clinicians->items[i].name);
        if (score >= 0.5 && (m->run_sheet_clinician_id == NULL ||
                             strcmp(m->run_sheet_clinician_id, clinicians->items[i].id) != 0))
            json_array_append_new(arr, json_pack("{s:s, s:s, s:f}", "clinicianId",
                                                 clinicians->items[i].id, "name",
                                                 clinicians->items[i].name, "score", score));
    }
    return arr;
}

/* Why a practitioner is not synced, or NULL when it is. */
static const char *not_synced_reason(const pms_mapping *m)
{
    if (!m->pms_active)
        return "inactive";
    if (!m->pms_bookable)
        return "not_in_appointment_book";
    if (m->run_sheet_clinician_id == NULL)
        return "not_mapped";
    if (!m->sync_enabled)
        return "disabled";
    return NULL;
}

int pms_practitioners_to_json(pms_store *st, const pms_connection *c, json_t **out, pms_error *err)
{
    pms_mapping_list mappings = {0};
    pms_clinician_list clinicians = {0};
    int rc;
    if ((rc = st->ops->mapping_list(st, c->id, &mappings, err)) != PMS_OK ||
        (rc = st->ops->clinician_list(st, c->account_id, &clinicians, err)) != PMS_OK)
        goto out;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < mappings.count; i++) {
        const pms_mapping *m = &mappings.items[i];
        const char *reason = not_synced_reason(m);
        json_array_append_new(
            arr,
            json_pack("{s:s, s:s?, s:b, s:b, s:s?, s:s?, s:b, s:b, s:b, s:s?, s:o}",
                      "pmsPractitionerId", m->pms_practitioner_id, "name", m->pms_practitioner_name,
                      "active", m->pms_active, "shownInAppointmentBook", m->pms_bookable,
                      "clinicianId", m->run_sheet_clinician_id, "clinicianName", m->clinician_name,
                      "syncEnabled", m->sync_enabled, "autoCreated", m->auto_created, "synced",
                      reason == NULL, "notSyncedReason", reason, "suggestions",
                      suggestions(m, &clinicians)));
    }
    if (arr == NULL)
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    else
        *out = arr;
out:
    pms_mapping_list_clear(&mappings);
    pms_clinician_list_clear(&clinicians);
    return rc;
}

int pms_types_to_json(pms_store *st, const pms_connection *c, json_t **out, pms_error *err)
{
    pms_stored_type_list types = {0};
    int rc = st->ops->type_list(st, c->id, &types, err);
    if (rc != PMS_OK)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < types.count; i++) {
        const pms_stored_type *t = &types.items[i];
        json_array_append_new(
            arr,
            json_pack("{s:s, s:s, s:o, s:s?, s:b, s:b, s:b, s:b}", "id", t->pms_type_id, "name",
                      t->pms_type_name, "durationMinutes",
                      t->default_duration_minutes > 0 ? json_integer(t->default_duration_minutes)
                                                      : json_null(),
                      "colour", t->colour, "isTelehealth", t->is_telehealth,
                      "telehealthAutoDetected", t->telehealth_auto_detected, "suggestedTelehealth",
                      pms_appt_type_name_suggests_telehealth(t->pms_type_name), "syncEnabled",
                      t->sync_enabled));
    }
    pms_stored_type_list_clear(&types);
    if (arr == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    *out = arr;
    return PMS_OK;
}

/* ---- mappings -------------------------------------------------------------------------- */

/* Loads the connection's mappings and finds one practitioner's. */
static int find_mapping(pms_store *st, const pms_connection *c, const char *practitioner_id,
                        pms_mapping_list *list, pms_mapping **out, pms_error *err)
{
    memset(list, 0, sizeof *list);
    int rc = st->ops->mapping_list(st, c->id, list, err);
    if (rc != PMS_OK)
        return rc;
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i].pms_practitioner_id, practitioner_id) == 0) {
            *out = &list->items[i];
            return PMS_OK;
        }
    }
    pms_mapping_list_clear(list);
    pms_error_set(err, PMS_ERR_NOT_FOUND,
                  "no practitioner %.64s on this connection (read them from the PMS first)",
                  practitioner_id);
    return pms_error_field(err, "pmsPractitionerId");
}

static int save_mapping(pms_store *st, pms_mapping *m, pms_error *err)
{
    return st->ops->mapping_upsert(st, m, err);
}

int pms_mapping_assign(pms_store *st, const pms_connection *c, const char *practitioner_id,
                       const char *clinician_id, pms_error *err)
{
    pms_clinician clinician = {0};
    int rc = st->ops->clinician_get(st, clinician_id, &clinician, err);
    bool same_account = rc == PMS_OK && strcmp(clinician.account_id, c->account_id) == 0;
    pms_clinician_clear(&clinician);
    if (rc == PMS_ERR_NOT_FOUND || (rc == PMS_OK && !same_account)) {
        pms_error_set(err, PMS_ERR_NOT_FOUND, "no clinician %.64s", clinician_id);
        return pms_error_field(err, "clinicianId");
    }
    if (rc != PMS_OK)
        return rc;
    pms_mapping_list list;
    pms_mapping *m;
    if ((rc = find_mapping(st, c, practitioner_id, &list, &m, err)) != PMS_OK)
        return rc;
    if (pms_str_set(&m->run_sheet_clinician_id, clinician_id)) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    } else {
        m->sync_enabled = true;
        m->auto_created = false;
        rc = save_mapping(st, m, err);
    }
    pms_mapping_list_clear(&list);
    return rc;
}

int pms_mapping_create_clinician(pms_store *st, const pms_connection *c,
                                 const char *practitioner_id, const char *name,
                                 char clinician_id_out[PMS_STORE_ID_LEN], pms_error *err)
{
    if (name && (name[0] == '\0' || strlen(name) > 255)) {
        pms_error_set(err, PMS_ERR_INVALID, "a clinician's name is 1 to 255 characters");
        return pms_error_field(err, "clinicianName");
    }
    pms_mapping_list list;
    pms_mapping *m;
    int rc = find_mapping(st, c, practitioner_id, &list, &m, err);
    if (rc != PMS_OK)
        return rc;
    pms_clinician clinician = {0};
    const char *chosen = name                       ? name
                         : m->pms_practitioner_name ? m->pms_practitioner_name
                                                    : practitioner_id;
    if (pms_str_set(&clinician.account_id, c->account_id) || pms_str_set(&clinician.name, chosen) ||
        pms_str_set(&clinician.pms_practitioner_id, practitioner_id) ||
        pms_str_set(&clinician.pms_connection_id, c->id)) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = st->ops->clinician_insert(st, &clinician, err)) == PMS_OK) {
        if (pms_str_set(&m->run_sheet_clinician_id, clinician.id)) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        } else {
            m->sync_enabled = true;
            m->auto_created = false;
            rc = save_mapping(st, m, err);
        }
    }
    if (rc == PMS_OK && clinician_id_out)
        snprintf(clinician_id_out, PMS_STORE_ID_LEN, "%s", clinician.id);
out:
    pms_clinician_clear(&clinician);
    pms_mapping_list_clear(&list);
    return rc;
}

int pms_mapping_unmap(pms_store *st, const pms_connection *c, const char *practitioner_id,
                      pms_error *err)
{
    pms_mapping_list list;
    pms_mapping *m;
    int rc = find_mapping(st, c, practitioner_id, &list, &m, err);
    if (rc != PMS_OK)
        return rc;
    free(m->run_sheet_clinician_id);
    m->run_sheet_clinician_id = NULL;
    rc = save_mapping(st, m, err);
    pms_mapping_list_clear(&list);
    return rc;
}

int pms_mapping_set_enabled(pms_store *st, const pms_connection *c, const char *practitioner_id,
                            bool enabled, pms_error *err)
{
    pms_mapping_list list;
    pms_mapping *m;
    int rc = find_mapping(st, c, practitioner_id, &list, &m, err);
    if (rc != PMS_OK)
        return rc;
    if (enabled && m->run_sheet_clinician_id == NULL) {
        rc = pms_error_set(err, PMS_ERR_CONFLICT,
                           "practitioner %.64s is not mapped to a clinician yet: map it or "
                           "create a clinician for it first",
                           practitioner_id);
        pms_error_field(err, "syncEnabled");
    } else {
        m->sync_enabled = enabled;
        rc = save_mapping(st, m, err);
    }
    pms_mapping_list_clear(&list);
    return rc;
}

/* ---- appointment types ----------------------------------------------------------------- */

int pms_type_set_flags(pms_store *st, const pms_connection *c, const char *type_id,
                       int is_telehealth, int sync_enabled, pms_error *err)
{
    pms_stored_type_list types = {0};
    int rc = st->ops->type_list(st, c->id, &types, err);
    if (rc != PMS_OK)
        return rc;
    bool known = false;
    for (size_t i = 0; i < types.count && !known; i++)
        known = strcmp(types.items[i].pms_type_id, type_id) == 0;
    pms_stored_type_list_clear(&types);
    if (!known) {
        pms_error_set(err, PMS_ERR_NOT_FOUND,
                      "no appointment type %.64s on this connection (read them from the PMS "
                      "first)",
                      type_id);
        return pms_error_field(err, "id");
    }
    return st->ops->type_set_flags(st, c->id, type_id, is_telehealth, sync_enabled, err);
}

int pms_type_mark_suggested(pms_store *st, const pms_connection *c, bool on, int *count,
                            pms_error *err)
{
    *count = 0;
    pms_stored_type_list types = {0};
    int rc = st->ops->type_list(st, c->id, &types, err);
    for (size_t i = 0; rc == PMS_OK && i < types.count; i++) {
        if (!pms_appt_type_name_suggests_telehealth(types.items[i].pms_type_name))
            continue;
        rc = st->ops->type_set_flags(st, c->id, types.items[i].pms_type_id, on ? 1 : 0, -1, err);
        if (rc == PMS_OK)
            (*count)++;
    }
    pms_stored_type_list_clear(&types);
    return rc;
}
