/* The plan's conflict rules, as the run sheet shows an entry: manual edits win for phone and
 * time, notes merge (PMS notes, then the manual ones), everything else comes from the source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/sync.h"

int pms_sheet_entry_effective(const pms_sheet_entry *e, pms_appointment *out, pms_error *err)
{
    int rc = pms_appointment_copy(out, &e->appt, err);
    if (rc != PMS_OK)
        return rc;
    if (e->edited_phone && pms_str_set(&out->patient.phone, e->edited_phone))
        goto nomem;
    if (e->edited_start != PMS_INSTANT_NONE) {
        long long duration_ms = out->end_time - out->start_time;
        out->start_time = e->edited_start;
        out->end_time =
            e->edited_end != PMS_INSTANT_NONE ? e->edited_end : e->edited_start + duration_ms;
    } else if (e->edited_end != PMS_INSTANT_NONE) {
        out->end_time = e->edited_end;
    }
    if (e->manual_notes && e->manual_notes[0]) {
        char *merged = NULL;
        int n = out->notes && out->notes[0]
                    ? asprintf(&merged, "%s\n---\n%s", out->notes, e->manual_notes)
                    : asprintf(&merged, "%s", e->manual_notes);
        if (n < 0)
            goto nomem;
        free(out->notes);
        out->notes = merged;
    }
    return PMS_OK;
nomem:
    pms_appointment_clear(out);
    return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}

json_t *pms_sheet_entry_to_json(const pms_sheet_entry *e, bool include_raw)
{
    pms_appointment effective;
    if (pms_sheet_entry_effective(e, &effective, NULL) != PMS_OK)
        return NULL;
    json_t *o = pms_appointment_to_json(&effective, include_raw);
    pms_appointment_clear(&effective);
    if (o == NULL)
        return NULL;
    char date[PMS_TIME_BUFLEN];
    pms_date_format(e->sheet_date, date);
    json_object_set_new(o, "id", pms_json_string_or_null(e->id));
    json_object_set_new(o, "source", json_string(pms_source_name(e->source)));
    json_object_set_new(o, "runSheetDate", json_string(date));
    json_object_set_new(o, "clinicianId", pms_json_string_or_null(e->clinician_id));
    json_object_set_new(o, "clinicianName", pms_json_string_or_null(e->clinician_name));
    json_object_set_new(o, "pmsLastSyncedAt", pms_json_instant_or_null(e->pms_last_synced_at));
    json_object_set_new(o, "removed", json_boolean(e->removed_at != PMS_INSTANT_NONE));
    json_object_set_new(o, "removedAt", pms_json_instant_or_null(e->removed_at));
    json_t *edits = json_object();
    json_object_set_new(edits, "phone", pms_json_string_or_null(e->edited_phone));
    json_object_set_new(edits, "startTime", pms_json_instant_or_null(e->edited_start));
    json_object_set_new(edits, "endTime", pms_json_instant_or_null(e->edited_end));
    json_object_set_new(edits, "notes", pms_json_string_or_null(e->manual_notes));
    json_object_set_new(edits, "editedAt", pms_json_instant_or_null(e->edited_at));
    json_object_set_new(o, "manualEdits", edits);
    return o;
}
