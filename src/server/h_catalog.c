/* A connection's practitioners (and their run-sheet clinicians) and appointment types, the
 * telehealth check of the set-up wizard, and the account's run-sheet clinicians. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/mappings.h"
#include "pmsync/sync.h"
#include "server/handlers.h"

#define MAX_ITEMS 500

/* Reads the catalogue from the PMS unless ?refresh=false; a PMS failure is a 502. */
static bool refresh(pmsd_request *req, pmsd_response *resp, pms_store *st, const pms_connection *c,
                    bool practitioners, int *listed)
{
    const char *q = pmsd_query(req, "refresh");
    bool want = true;
    if (q && strcmp(q, "false") != 0 && strcmp(q, "true") != 0) {
        pmsd_respond_error(resp, 400, "invalid_request", "refresh",
                           "refresh must be true or false");
        return false;
    }
    if (q && strcmp(q, "false") == 0)
        want = false;
    *listed = -1; /* not asked this time */
    if (!want)
        return true;
    pms_error err = {0};
    pms_session_options opts = pmsd_session_options(req->app);
    bool by_pms = true;
    if (pms_catalog_refresh(st, req->app->ring, c, &opts, practitioners, !practitioners, &by_pms,
                            &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    *listed = by_pms;
    return true;
}

/* listed: whether the PMS lists practitioners (1, 0), or -1 when it was not read now. */
static void respond_practitioners(pmsd_response *resp, pms_store *st, const pms_connection *c,
                                  int listed)
{
    json_t *arr = NULL;
    pms_error err = {0};
    if (pms_practitioners_to_json(st, c, &arr, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return;
    }
    pmsd_respond_json(resp, 200,
                      json_pack("{s:s, s:o, s:o}", "connectionId", c->id, "listedByPms",
                                listed < 0 ? json_null() : json_boolean(listed), "practitioners",
                                arr));
}

void pmsd_h_practitioners_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    int listed = -1;
    if (refresh(req, resp, st, &c, true, &listed))
        respond_practitioners(resp, st, &c, listed);
    pms_connection_clear(&c);
}

static const char *const mapping_keys[] = {
    "pmsPractitionerId", "clinicianId", "createClinician", "clinicianName", "syncEnabled", NULL,
};

/* Checks one mapping change before anything is written. */
static bool check_mapping(const json_t *item, const char *prefix, pmsd_response *resp)
{
    if (!json_is_object(item))
        return pmsd_v_fail(resp, NULL, prefix, "must be an object");
    const char *pid, *clinician, *name;
    int create, enabled;
    if (!pmsd_v_known_keys(item, mapping_keys, prefix, resp) ||
        !pmsd_v_string(item, "pmsPractitionerId", prefix, true, 128, &pid, resp) ||
        !pmsd_v_string(item, "clinicianId", prefix, false, 64, &clinician, resp) ||
        !pmsd_v_bool(item, "createClinician", prefix, &create, resp) ||
        !pmsd_v_string(item, "clinicianName", prefix, false, 255, &name, resp) ||
        !pmsd_v_bool(item, "syncEnabled", prefix, &enabled, resp))
        return false;
    if (create == 1 && json_object_get(item, "clinicianId"))
        return pmsd_v_fail(resp, prefix, "createClinician", "cannot be combined with clinicianId");
    if (name && create != 1)
        return pmsd_v_fail(resp, prefix, "clinicianName", "is only used with createClinician");
    if (create != 1 && !json_object_get(item, "clinicianId") && enabled < 0)
        return pmsd_v_fail(resp, prefix, "clinicianId",
                           "is required (or createClinician, or syncEnabled)");
    return true;
}

bool pmsd_read_mappings(const json_t *body, const json_t **mappings, pmsd_response *resp)
{
    static const char *const keys[] = {"mappings", NULL};
    if (!pmsd_v_known_keys(body, keys, NULL, resp) ||
        !pmsd_v_array(body, "mappings", NULL, true, MAX_ITEMS, mappings, resp))
        return false;
    char prefix[32];
    size_t i;
    const json_t *item;
    json_array_foreach(*mappings, i, item)
    {
        snprintf(prefix, sizeof prefix, "mappings[%zu]", i);
        if (!check_mapping(item, prefix, resp))
            return false;
    }
    return true;
}

static bool listed(const json_t *set, const char *id)
{
    return id == NULL || json_object_get(set, id) != NULL;
}

/* The practitioners and clinicians the changes name belong to this connection and account. */
static bool check_references(pmsd_request *req, pmsd_response *resp, pms_store *st,
                             const pms_connection *c, const json_t *mappings)
{
    pms_mapping_list known = {0};
    pms_clinician_list clinicians = {0};
    json_t *practitioner_ids = json_object(), *clinician_ids = json_object();
    pms_error err = {0};
    bool ok = false;
    if (st->ops->mapping_list(st, c->id, &known, &err) != PMS_OK ||
        st->ops->clinician_list(st, req->principal.account_id, &clinicians, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    for (size_t i = 0; i < known.count; i++)
        json_object_set_new(practitioner_ids, known.items[i].pms_practitioner_id, json_true());
    for (size_t i = 0; i < clinicians.count; i++)
        json_object_set_new(clinician_ids, clinicians.items[i].id, json_true());
    size_t i;
    const json_t *item;
    char prefix[32];
    json_array_foreach(mappings, i, item)
    {
        snprintf(prefix, sizeof prefix, "mappings[%zu]", i);
        if (!listed(practitioner_ids,
                    json_string_value(json_object_get(item, "pmsPractitionerId")))) {
            pmsd_v_fail(resp, prefix, "pmsPractitionerId",
                        "is not a practitioner of this connection (read them from the PMS "
                        "first)");
            goto out;
        }
        if (!listed(clinician_ids, json_string_value(json_object_get(item, "clinicianId")))) {
            pmsd_v_fail(resp, prefix, "clinicianId", "is not a clinician of this account");
            goto out;
        }
    }
    ok = true;
out:
    json_decref(practitioner_ids);
    json_decref(clinician_ids);
    pms_mapping_list_clear(&known);
    pms_clinician_list_clear(&clinicians);
    return ok;
}

/* Applies one checked mapping change. */
static int apply_mapping(pms_store *st, const pms_connection *c, const json_t *item, pms_error *err)
{
    const char *pid = json_string_value(json_object_get(item, "pmsPractitionerId"));
    const json_t *clinician = json_object_get(item, "clinicianId");
    const json_t *enabled = json_object_get(item, "syncEnabled");
    int rc = PMS_OK;
    if (json_is_true(json_object_get(item, "createClinician")))
        rc = pms_mapping_create_clinician(
            st, c, pid, json_string_value(json_object_get(item, "clinicianName")), NULL, err);
    else if (json_is_string(clinician))
        rc = pms_mapping_assign(st, c, pid, json_string_value(clinician), err);
    else if (clinician && json_is_null(clinician))
        rc = pms_mapping_unmap(st, c, pid, err);
    if (rc == PMS_OK && enabled)
        rc = pms_mapping_set_enabled(st, c, pid, json_is_true(enabled), err);
    return rc;
}

void pmsd_h_practitioners_post(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    json_t *body = pmsd_json_body(req, resp);
    const json_t *mappings = NULL;
    size_t i;
    const json_t *item;
    if (body == NULL || !pmsd_read_mappings(body, &mappings, resp))
        goto out;
    /* Every practitioner and clinician named must exist before anything changes. */
    if (!check_references(req, resp, st, &c, mappings))
        goto out;
    pms_error err = {0};
    if (st->ops->begin(st, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    int rc = PMS_OK;
    json_array_foreach(mappings, i, item)
    {
        if ((rc = apply_mapping(st, &c, item, &err)) != PMS_OK)
            break;
    }
    if (rc == PMS_OK)
        rc = st->ops->commit(st, &err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        /* Name the failing item's field: mappings[i].clinicianId. */
        char field[160];
        snprintf(field, sizeof field, "mappings[%zu]%s%s", i, err.field[0] ? "." : "", err.field);
        snprintf(err.field, sizeof err.field, "%s", field);
        if (err.code == PMS_ERR_NOT_FOUND) /* the body named something that isn't there */
            pmsd_respond_error(resp, 400, "invalid_request", err.field, "%s", err.message);
        else
            pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    respond_practitioners(resp, st, &c, -1);
out:
    json_decref(body);
    pms_connection_clear(&c);
}

static void respond_types(pmsd_response *resp, pms_store *st, const pms_connection *c)
{
    json_t *arr = NULL;
    pms_error err = {0};
    if (pms_types_to_json(st, c, &arr, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return;
    }
    pmsd_respond_json(resp, 200,
                      json_pack("{s:s, s:o}", "connectionId", c->id, "appointmentTypes", arr));
}

void pmsd_h_types_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    int listed;
    if (refresh(req, resp, st, &c, false, &listed))
        respond_types(resp, st, &c);
    pms_connection_clear(&c);
}

static const char *const type_keys[] = {"id", "isTelehealth", "syncEnabled", NULL};

bool pmsd_read_type_flags(const json_t *body, const json_t **types, int *suggested,
                          pmsd_response *resp)
{
    static const char *const keys[] = {"appointmentTypes", "markSuggestedTelehealth", NULL};
    *types = NULL;
    *suggested = -1;
    if (!pmsd_v_known_keys(body, keys, NULL, resp) ||
        !pmsd_v_array(body, "appointmentTypes", NULL, false, MAX_ITEMS, types, resp) ||
        !pmsd_v_bool(body, "markSuggestedTelehealth", NULL, suggested, resp))
        return false;
    if (*types == NULL && *suggested < 0)
        return pmsd_v_fail(resp, NULL, "appointmentTypes", "is required");
    char prefix[40];
    size_t i;
    const json_t *item;
    json_array_foreach(*types, i, item)
    {
        snprintf(prefix, sizeof prefix, "appointmentTypes[%zu]", i);
        const char *id;
        int tele, sync;
        if (!json_is_object(item))
            return pmsd_v_fail(resp, NULL, prefix, "must be an object");
        if (!pmsd_v_known_keys(item, type_keys, prefix, resp) ||
            !pmsd_v_string(item, "id", prefix, true, 128, &id, resp) ||
            !pmsd_v_bool(item, "isTelehealth", prefix, &tele, resp) ||
            !pmsd_v_bool(item, "syncEnabled", prefix, &sync, resp))
            return false;
        if (tele < 0 && sync < 0)
            return pmsd_v_fail(resp, prefix, "isTelehealth", "or syncEnabled is required");
    }
    return true;
}

void pmsd_h_types_patch(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    json_t *body = pmsd_json_body(req, resp);
    const json_t *types = NULL;
    int suggested = -1;
    size_t i;
    const json_t *item;
    if (body == NULL || !pmsd_read_type_flags(body, &types, &suggested, resp))
        goto out;
    pms_error err = {0};
    int rc = st->ops->begin(st, &err);
    int marked = 0;
    if (rc == PMS_OK && suggested >= 0)
        rc = pms_type_mark_suggested(st, &c, suggested == 1, &marked, &err);
    if (rc == PMS_OK) {
        json_array_foreach(types, i, item)
        {
            int tele = -1, sync = -1;
            pmsd_v_bool(item, "isTelehealth", NULL, &tele, resp);
            pmsd_v_bool(item, "syncEnabled", NULL, &sync, resp);
            rc = pms_type_set_flags(st, &c, json_string_value(json_object_get(item, "id")), tele,
                                    sync, &err);
            if (rc != PMS_OK)
                break;
        }
    }
    if (rc == PMS_OK)
        rc = st->ops->commit(st, &err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        if (err.code == PMS_ERR_NOT_FOUND) {
            char field[64];
            snprintf(field, sizeof field, "appointmentTypes[%zu].id", i);
            pmsd_respond_error(resp, 400, "invalid_request", field, "%s", err.message);
        } else {
            pmsd_respond_pms_error(resp, &err);
        }
        goto out;
    }
    respond_types(resp, st, &c);
out:
    json_decref(body);
    pms_connection_clear(&c);
}

static json_t *clinician_json(const pms_clinician *c)
{
    return json_pack("{s:s, s:s, s:s?, s:s?, s:o}", "id", c->id, "name", c->name,
                     "pmsPractitionerId", c->pms_practitioner_id, "pmsConnectionId",
                     c->pms_connection_id, "createdAt", pms_json_instant_or_null(c->created_at));
}

void pmsd_h_clinicians_list(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    pms_clinician_list list = {0};
    pms_error err = {0};
    if (st->ops->clinician_list(st, req->principal.account_id, &list, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(arr, clinician_json(&list.items[i]));
    pms_clinician_list_clear(&list);
    pmsd_respond_json(resp, 200, json_pack("{s:o}", "clinicians", arr));
}

bool pmsd_read_clinician(const json_t *body, const char **name, pmsd_response *resp)
{
    static const char *const keys[] = {"name", NULL};
    return pmsd_v_known_keys(body, keys, NULL, resp) &&
           pmsd_v_string(body, "name", NULL, true, 255, name, resp);
}

void pmsd_h_clinicians_create(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    json_t *body = st ? pmsd_json_body(req, resp) : NULL;
    const char *name;
    if (body && pmsd_read_clinician(body, &name, resp)) {
        pms_clinician c = {.account_id = req->principal.account_id, .name = (char *)name};
        pms_error err = {0};
        if (st->ops->clinician_insert(st, &c, &err) != PMS_OK) {
            pmsd_respond_pms_error(resp, &err);
        } else {
            pms_clinician stored = {0};
            if (st->ops->clinician_get(st, c.id, &stored, &err) == PMS_OK)
                pmsd_respond_json(resp, 201, clinician_json(&stored));
            else
                pmsd_respond_pms_error(resp, &err);
            pms_clinician_clear(&stored);
        }
        free(c.id);
    }
    json_decref(body);
}

/* ---- the telehealth check of the set-up wizard ------------------------------------------ */

typedef struct telehealth_tally {
    long appointments;
    long by_pms; /* telehealth decided by the PMS's own data */
} telehealth_tally;

static int tally(void *ctx, pms_appointment *items, size_t count, pms_error *err)
{
    (void)err;
    telehealth_tally *t = ctx;
    for (size_t i = 0; i < count; i++) {
        t->appointments++;
        t->by_pms += items[i].telehealth_from_pms;
    }
    return PMS_OK;
}

/* Reads the practice's week from the PMS as a sync would (stores nothing, shows no patient
 * data) and says whether the PMS itself tells telehealth apart or the practice must mark its
 * telehealth types. */
void pmsd_h_telehealth_check(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    /* Telehealth or not, and no patient details: counts only. */
    pms_read_window week = {.telehealth_only = false, .without_patients = true};
    pms_error err = {0};
    telehealth_tally t = {0};
    pms_batch_sink sink = {.batch = tally, .ctx = &t};
    pms_session_options opts = pmsd_session_options(req->app);
    int rc = pms_practice_today(c.timezone, &week.from, &err);
    week.to = pms_date_add_days(week.from, 6);
    if (rc == PMS_OK)
        rc = pms_sync_read(st, req->app->ring, &c, &opts, &week, &sink, &err);
    if (rc != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        pms_connection_clear(&c);
        return;
    }
    const pms_adapter_ops *ops = pms_adapter_find(c.pms_type);
    bool by_type_pms = ops && (pms_adapter_capabilities(ops) & PMS_CAP_TELEHEALTH_BY_TYPE);
    long by_type = t.appointments - t.by_pms;
    char first[PMS_TIME_BUFLEN], last[PMS_TIME_BUFLEN];
    pms_date_format(week.from, first);
    pms_date_format(week.to, last);
    pmsd_respond_json(resp, 200,
                      json_pack("{s:s, s:s, s:I, s:I, s:I, s:b}", "from", first, "to", last,
                                "appointments", (json_int_t)t.appointments, "decidedByPms",
                                (json_int_t)t.by_pms, "decidedByType", (json_int_t)by_type,
                                "typesStepNeeded",
                                t.appointments == 0 ? by_type_pms : by_type > 0));
    pms_connection_clear(&c);
}
