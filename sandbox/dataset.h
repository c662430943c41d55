/* Shared generation of realistic fake data for every PMS simulator: practice regions and zones,
 * people's names, Australian phone numbers in the varied ways people write them, e-mail
 * addresses on reserved example domains, birth dates and street addresses.
 *
 * Every function draws only from the sbx_prng it is given, so results are deterministic.
 * Returned const strings point into immutable tables.
 */
#ifndef SBX_DATASET_H
#define SBX_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "pmsync/time.h"
#include "pmsync/tz.h"
#include "prng.h"

/* Where a practice is: its IANA zone and the state, phone area code and suburbs that go with it. */
typedef struct sbx_region {
    const char *zone;      /* "Australia/Melbourne" */
    const char *state;     /* "VIC" */
    const char *area_code; /* "03" */
    const char *const *suburbs;
    const char *const *postcodes; /* parallel to suburbs */
    size_t suburb_count;
} sbx_region;

/* The regions in the order practices cycle through them: Melbourne, Sydney, Brisbane, Adelaide,
 * Perth, Hobart, Lord Howe, Darwin. */
const sbx_region *sbx_region_at(size_t practice_index);
size_t sbx_region_count(void);
/* The order of the Medirecords and Halaxy practices: the three zones whose clocks change in
 * three different ways first (Melbourne: an hour at 02:00/03:00; Adelaide: an hour on a
 * half-hour offset; Lord Howe: half an hour), then Sydney, Brisbane, Perth, Hobart, Darwin. */
const sbx_region *sbx_region_dst_first(size_t practice_index);

typedef struct sbx_person {
    const char *given;
    const char *middle; /* NULL when none */
    const char *family;
    bool female;
} sbx_person;

/* A person; sex is chosen at random. middle_chance is the probability of a middle name. */
void sbx_gen_person(sbx_prng *prng, double middle_chance, sbx_person *out);

/* A practice name such as "Richmond Family Medical Centre"; the suburb is taken from the
 * region, and used_mask (bit per suburb) avoids repeating one within a run when possible. */
void sbx_gen_practice_name(sbx_prng *prng, const sbx_region *region, unsigned *used_mask, char *buf,
                           size_t len);

/* An Australian mobile number in one of the ways people write them: "0412 345 678",
 * "0412345678", "+61 412 345 678", "+61412345678", "0412-345-678". */
void sbx_gen_mobile(sbx_prng *prng, char *buf, size_t len);
/* A landline in the region's area code: "(03) 9123 4567" or "03 9123 4567" or "0391234567". */
void sbx_gen_landline(sbx_prng *prng, const sbx_region *region, char *buf, size_t len);
/* A mobile number in one canonical written form ("0412 345 678"). */
void sbx_gen_mobile_plain(sbx_prng *prng, char *buf, size_t len);

/* "emma.nguyen84@example.com": always on the reserved example.com/.net/.org domains. */
void sbx_gen_email(sbx_prng *prng, const char *given, const char *family, char *buf, size_t len);

/* A birth date for an age in [min_age, max_age] years on `today`. */
pms_date sbx_gen_birth_date(sbx_prng *prng, pms_date today, int min_age, int max_age);

/* "12 Lygon Street" */
void sbx_gen_street(sbx_prng *prng, char *buf, size_t len);

/* Replaces *dst with a malloc'd copy of src (NULL allowed); false when out of memory. */
bool sbx_set_string(char **dst, const char *src);

/* Picks an index by integer weights; total must be > 0. */
size_t sbx_pick_weighted(sbx_prng *prng, const int *weights, size_t count);

/* ---- appointment books ---- */

/* Where a day lies from the dataset's today; statuses are mixed by it. */
typedef enum sbx_day_kind {
    SBX_DAY_PAST,
    SBX_DAY_TODAY,
    SBX_DAY_FUTURE,
} sbx_day_kind;

#define SBX_DAY_OPEN_MINUTES  (8 * 60) /* business hours, local */
#define SBX_DAY_CLOSE_MINUTES (17 * 60 + 30)
#define SBX_MINUTE_MS         ((pms_instant)60000)

/* The start times of one practitioner-day's appointments, one at a time so that callers can
 * draw their other values from the same stream in between: back to back on 15-minute
 * boundaries with random gaps spread through the day when it has room, otherwise evenly spaced
 * (overlapping, as a double-booked day does). */
typedef struct sbx_day_layout {
    const int *lengths; /* minutes, borrowed */
    int count, next;
    int slack_slots, step, minute;
    bool fits;
} sbx_day_layout;

void sbx_day_layout_init(sbx_day_layout *layout, const int *lengths, int count);
/* The local minute of the day at which the next appointment starts. */
int sbx_day_layout_next(sbx_day_layout *layout, sbx_prng *prng);

/* The instant of a local minute of a day (tz.h's policy for gaps and overlaps). */
pms_instant sbx_local_instant(const pms_tz *tz, pms_date day, int minute_of_day);

/* A change of a zone's UTC offset during one local day. */
typedef struct sbx_dst_change {
    pms_instant at;        /* the first instant at the new offset */
    int before, after;     /* offsets in seconds */
    bool forward;          /* clocks spring forward (a gap) rather than fall back (an overlap) */
    pms_civil local_start; /* the first wall time skipped (gap) or repeated (overlap) */
    int minutes;           /* how long the gap or the overlap is */
} sbx_dst_change;

/* Whether the zone changes offset on that local day, and how. */
bool sbx_dst_change_on(const pms_tz *tz, pms_date day, sbx_dst_change *out);

#endif
