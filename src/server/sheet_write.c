/* Writing a PMS appointment of the unified API onto the run sheet, as a sync would. */
#include "server/sheet_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/adapter.h"
#include "pmsync/tz.h"

static int clinician_for(pms_store *st, const pms_connection *c, const char *practitioner_id,
                         char **out, pms_error *err)
{
    *out = NULL;
    if (practitioner_id == NULL)
        return PMS_OK;
    pms_mapping_list maps = {0};
    int rc = st->ops->mapping_list(st, c->id, &maps, err);
    for (size_t i = 0; rc == PMS_OK && i < maps.count; i++)
        if (maps.items[i].pms_practitioner_id &&
            strcmp(maps.items[i].pms_practitioner_id, practitioner_id) == 0 &&
            maps.items[i].run_sheet_clinician_id)
            *out = strdup(maps.items[i].run_sheet_clinician_id);
    pms_mapping_list_clear(&maps);
    return rc;
}

int pmsd_sheet_put(pms_store *st, const pms_connection *c, pms_appointment *a, pms_sheet_entry *out,
                   bool *created, pms_error *err)
{
    pms_sheet_entry_init(out);
    *created = false;
    const char *zone = c->timezone ? c->timezone : "Australia/Sydney";
    const pms_tz *tz = NULL;
    int rc = pms_tz_get(zone, &tz, err);
    if (rc != PMS_OK) {
        pms_appointment_clear(a);
        return rc;
    }
    out->appt = *a;
    pms_appointment_init(a);
    out->sheet_date = pms_tz_date_of(tz, out->appt.start_time);
    out->source = PMS_SOURCE_PMS;
    out->pms_last_synced_at = pms_now();
    if (pms_str_set(&out->appt.pms_connection_id, c->id) ||
        pms_str_set(&out->appt.pms_type, c->pms_type) ||
        (out->appt.timezone == NULL && pms_str_set(&out->appt.timezone, zone)) ||
        pms_str_set(&out->account_id, c->account_id))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    rc = st->ops->run_sheet_ensure(st, c->account_id, out->sheet_date, zone, &out->run_sheet_id,
                                   err);
    if (rc == PMS_OK)
        rc = clinician_for(st, c, out->appt.practitioner.pms_practitioner_id, &out->clinician_id,
                           err);
    if (rc != PMS_OK)
        return rc;
    pms_appointment_content_hash(&out->appt, out->content_hash);
    pms_entry_state existing;
    rc = st->ops->entry_state_pms(st, c->id, out->appt.pms_appointment_id, &existing, err);
    if (rc == PMS_OK) {
        if (pms_str_set(&out->id, existing.id))
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        return st->ops->entry_update_source(st, out, err);
    }
    if (rc != PMS_ERR_NOT_FOUND)
        return rc;
    *created = true;
    return st->ops->entry_insert(st, out, err);
}

void pmsd_sheet_appointment(pms_session *s, const pms_connection *c, const char *pms_id,
                            const char *patient_id, const char *practitioner_id,
                            const char *type_id, pms_instant start, int minutes, pms_appointment *a)
{
    pms_appointment_init(a);
    if (s && pms_adapter_get_appointment(s, pms_id, a, NULL) == PMS_OK)
        return;
    pms_appointment_clear(a);
    pms_appointment_init(a);
    (void)c;
    pms_str_set(&a->pms_appointment_id, pms_id);
    a->start_time = start;
    a->duration_minutes = minutes;
    a->end_time = start + (pms_instant)minutes * 60000;
    a->status = PMS_STATUS_BOOKED;
    pms_str_set(&a->patient.pms_patient_id, patient_id);
    pms_str_set(&a->practitioner.pms_practitioner_id, practitioner_id);
    pms_str_set(&a->appointment_type_id, type_id);
    a->fetched_at = pms_now();
}

void pmsd_sheet_changed(pms_session *s, const pms_sheet_entry *e, pms_instant start, int minutes,
                        bool cancelled, pms_appointment *out)
{
    pms_appointment_init(out);
    if (s && pms_adapter_get_appointment(s, e->appt.pms_appointment_id, out, NULL) == PMS_OK)
        return;
    pms_appointment_clear(out);
    pms_appointment_init(out);
    if (pms_appointment_copy(out, &e->appt, NULL) != PMS_OK)
        return;
    if (cancelled) {
        out->status = PMS_STATUS_CANCELLED;
        return;
    }
    out->start_time = start;
    out->duration_minutes = minutes;
    out->end_time = start + (pms_instant)minutes * 60000;
}
