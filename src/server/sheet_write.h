/* A PMS appointment written through the unified API put on the run sheet at once (source pms,
 * keyed by connection and PMS appointment id, so the next sync finds it and does not add it
 * again). Internal to src/server/. */
#ifndef PMSD_SHEET_WRITE_H
#define PMSD_SHEET_WRITE_H

#include "pmsync/session.h"
#include "pmsync/store.h"

/* Inside the caller's transaction: *a (its contents taken) as the connection's appointment on
 * its day's run sheet, inserted or updated; out (cleared by the caller) receives the entry and
 * *created whether it is new. */
int pmsd_sheet_put(pms_store *st, const pms_connection *c, pms_appointment *a, pms_sheet_entry *out,
                   bool *created, pms_error *err);
/* The appointment as the PMS has it now (get_appointment when the adapter offers it), else
 * built from what was written. *a is initialised by the call. */
void pmsd_sheet_appointment(pms_session *s, const pms_connection *c, const char *pms_id,
                            const char *patient_id, const char *practitioner_id,
                            const char *type_id, pms_instant start, int minutes,
                            pms_appointment *a);
/* The appointment after a move (start, minutes) or a cancellation: as the PMS has it now, else
 * the entry's with the change applied. *out is initialised by the call. */
void pmsd_sheet_changed(pms_session *s, const pms_sheet_entry *e, pms_instant start, int minutes,
                        bool cancelled, pms_appointment *out);

#endif
