/* IANA time zones, thread-safe, from the system's TZif files (RFC 8536).
 *
 * A zone is loaded once (version 2+ data: 64-bit transitions, then the POSIX TZ rule in the
 * footer for instants after the last transition) into an immutable table shared by every
 * thread. Zones live until pms_tz_cleanup(); the pointers handed out are never freed earlier.
 *
 * Local times that do not exist or exist twice follow one documented policy
 * (docs/timezones.md), the same as java.time and JavaScript Temporal's "compatible":
 *   - gap (clocks spring forward): the wall time is read with the offset in force before the
 *     transition, so it lands after the gap, shifted forward by the gap's length
 *     (02:30 on Melbourne's spring-forward day -> 03:30 AEDT);
 *   - overlap (clocks fall back): the earlier of the two instants (the first occurrence,
 *     still at the daylight-saving offset).
 */
#ifndef PMSYNC_TZ_H
#define PMSYNC_TZ_H

#include <stdbool.h>
#include <stddef.h>

#include "pmsync/error.h"
#include "pmsync/time.h"

typedef struct pms_tz pms_tz;

/* What a local-to-instant conversion met. */
typedef enum pms_tz_local_kind {
    PMS_TZ_LOCAL_UNIQUE = 0, /* the wall time exists once */
    PMS_TZ_LOCAL_GAP,        /* skipped by a forward transition; shifted forward */
    PMS_TZ_LOCAL_OVERLAP,    /* repeated by a backward transition; earlier instant chosen */
} pms_tz_local_kind;

/* Finds or loads a zone by IANA name ("Australia/Melbourne", "UTC"). Names are validated
 * (no "..", no absolute paths). Thread-safe. */
int pms_tz_get(const char *name, const pms_tz **out, pms_error *err);
bool pms_tz_name_valid(const char *name);
const char *pms_tz_name(const pms_tz *tz);

/* UTC offset in seconds at an instant (east positive); *is_dst when not NULL. */
int pms_tz_offset_at(const pms_tz *tz, pms_instant t, bool *is_dst);

/* The wall-clock time of an instant in the zone. */
void pms_tz_to_local(const pms_tz *tz, pms_instant t, pms_civil *out);

/* The instant of a wall-clock time, by the policy above; *kind when not NULL. */
pms_instant pms_tz_from_local(const pms_tz *tz, const pms_civil *local, pms_tz_local_kind *kind);

/* The instant a local calendar day starts (00:00, or the first valid time after a gap). */
pms_instant pms_tz_day_start(const pms_tz *tz, pms_date day);

/* The local date of an instant. */
pms_date pms_tz_date_of(const pms_tz *tz, pms_instant t);

/* Where TZif files are read from: PMSYNC_ZONEINFO, else /usr/share/zoneinfo. Call before the
 * first pms_tz_get, or not at all. */
void pms_tz_set_dir(const char *dir);

/* Builds a zone from the bytes of a TZif file, outside the registry (tests and fuzzing):
 * PMS_ERR_NOT_FOUND when the bytes are not TZif, PMS_ERR_PARSE when they are malformed. *out is
 * freed by the caller with pms_tz_free. */
int pms_tz_parse(const char *name, const unsigned char *data, size_t len, pms_tz **out,
                 pms_error *err);
void pms_tz_free(pms_tz *tz);

/* Frees every loaded zone. Only at process exit, when no thread uses a zone any more. */
void pms_tz_cleanup(void);

#endif
