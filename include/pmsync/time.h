/* Instants, civil dates and ISO 8601.
 *
 * An instant is milliseconds since the Unix epoch in UTC (pms_instant). Instants are what the
 * store keeps and what JSON carries (serialised as "YYYY-MM-DDThh:mm:ss.sssZ"). Wall-clock times
 * in a practice's zone are pms_civil values and become instants only through tz.h.
 */
#ifndef PMSYNC_TIME_H
#define PMSYNC_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "pmsync/error.h"

typedef int64_t pms_instant;
#define PMS_INSTANT_NONE INT64_MIN

typedef struct pms_date {
    int year, month, day; /* month 1..12, day 1..31 */
} pms_date;

typedef struct pms_civil {
    int year, month, day;
    int hour, minute, second, millis;
} pms_civil;

/* Room for any formatted instant, date or offset time (with NUL). */
#define PMS_TIME_BUFLEN 40

pms_instant pms_now(void);

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t pms_days_from_date(pms_date d);
pms_date pms_date_from_days(int64_t days);
int pms_days_in_month(int year, int month);
bool pms_date_valid(pms_date d);
pms_date pms_date_add_days(pms_date d, int64_t days);
int pms_date_compare(pms_date a, pms_date b);
/* 0 = Sunday .. 6 = Saturday */
int pms_date_weekday(pms_date d);

/* Civil time read as if it were UTC, and back (building blocks for zone conversion). A civil
 * time beyond the range of an instant saturates (INT64_MIN + 1 or INT64_MAX). */
pms_instant pms_civil_to_utc_instant(const pms_civil *c);
void pms_civil_from_utc_instant(pms_instant t, pms_civil *out);
bool pms_civil_valid(const pms_civil *c);

/* "YYYY-MM-DD" */
int pms_date_parse(const char *s, pms_date *out, pms_error *err);
void pms_date_format(pms_date d, char buf[PMS_TIME_BUFLEN]);

/* ISO 8601 with an explicit offset: "2026-03-02T09:30:00.000+11:00", "...+1100", "...Z",
 * seconds and fraction optional. Fills the instant and (when not NULL) the offset in seconds. */
int pms_iso8601_parse(const char *s, pms_instant *out, int *offset_seconds, pms_error *err);
/* ISO 8601 local wall-clock time with no offset: "2026-03-02T09:30", seconds/fraction optional.
 * A string carrying an offset is rejected: use pms_iso8601_parse. */
int pms_iso8601_parse_local(const char *s, pms_civil *out, pms_error *err);

/* "2026-03-02T22:30:00.000Z" */
void pms_format_utc(pms_instant t, char buf[PMS_TIME_BUFLEN]);
/* "2026-03-02T09:30:00.000+11:00" (the instant shown at the given offset) */
void pms_format_offset(pms_instant t, int offset_seconds, char buf[PMS_TIME_BUFLEN]);
/* "2026-03-02T09:30" (local, no offset) */
void pms_format_civil_minutes(const pms_civil *c, char buf[PMS_TIME_BUFLEN]);

/* An HTTP date (RFC 9110 IMF-fixdate, also RFC 850 and asctime forms) to an instant. */
int pms_http_date_parse(const char *s, pms_instant *out);

#endif
