/* Slots: as JSON, re-checking one against the PMS before booking, and the nearest free
 * alternatives when it has gone. Internal to src/server/. */
#ifndef PMSD_PMS_SLOTS_H
#define PMSD_PMS_SLOTS_H

#include "pmsync/adapter.h"

json_t *pmsd_slot_json(const pms_slot *s);
/* Asks the PMS whether start (for minutes, with that practitioner) is still free: its
 * availability where it has one, else its own appointments (pmsd_time_free_in_pms). except_id:
 * an appointment being moved (NULL: none). */
bool pmsd_slot_free(pms_session *s, const char *practitioner_id, const char *type_id,
                    const char *except_id, pms_instant start, int minutes, bool *is_free,
                    pms_error *err);
/* Whether the PMS can tell: it offers availability, or reads appointments. */
bool pmsd_slot_checkable(const pms_adapter_ops *ops);
/* The practitioner's appointments on the local days [start, start + minutes) touches, read from
 * the PMS: free when none that is not cancelled overlaps it (except_id's own time aside). */
bool pmsd_time_free_in_pms(pms_session *s, const char *practitioner_id, const char *except_id,
                           pms_instant start, int minutes, bool *is_free, pms_error *err);
/* Up to each_side free slots before and after start within a day either side (array); empty
 * when the PMS has no availability endpoint. */
json_t *pmsd_slot_alternatives(pms_session *s, const char *practitioner_id, const char *type_id,
                               pms_instant start, int minutes, size_t each_side);

#endif
