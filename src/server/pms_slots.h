/* Slots: as JSON, re-checking one against the PMS before booking, and the nearest free
 * alternatives when it has gone. Internal to src/server/. */
#ifndef PMSD_PMS_SLOTS_H
#define PMSD_PMS_SLOTS_H

#include "pmsync/adapter.h"

json_t *pmsd_slot_json(const pms_slot *s);
/* Asks the PMS whether start (for minutes, with that practitioner) is still free. */
bool pmsd_slot_free(pms_session *s, const char *practitioner_id, const char *type_id,
                    pms_instant start, int minutes, bool *is_free, pms_error *err);
/* Up to each_side free slots before and after start within a day either side (array). */
json_t *pmsd_slot_alternatives(pms_session *s, const char *practitioner_id, const char *type_id,
                               pms_instant start, int minutes, size_t each_side);

#endif
