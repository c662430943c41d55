/* The TZif reader: the bytes of a zone file into pms_tz_parse, then conversions both ways around
 * the zone's transitions, far from them and at the ends of the range. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "pmsync/tz.h"

static void convert(const pms_tz *tz, pms_instant t)
{
    bool dst;
    (void)pms_tz_offset_at(tz, t, &dst);
    pms_civil local;
    pms_tz_to_local(tz, t, &local);
    pms_tz_local_kind kind;
    (void)pms_tz_from_local(tz, &local, &kind);
    pms_date day = pms_tz_date_of(tz, t);
    (void)pms_tz_day_start(tz, day);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    pms_tz *tz = NULL;
    if (pms_tz_parse("Fuzz/Zone", data, size, &tz, NULL) != PMS_OK)
        return 0;
    static const pms_instant fixed[] = {
        0,
        1775340000000,  /* 2026-04-05 */
        1759593600000,  /* 2025-10-05 */
        -2208988800000, /* 1900 */
        4102444800000,  /* 2100 */
        253402300799000,
        -62135596800000,
        INT64_MAX,
        INT64_MIN + 1,
        INT64_MAX / 2,
        INT64_MIN / 2,
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        convert(tz, fixed[i]);
    /* Wall times on a spring-forward and a fall-back day, and the first days of years. */
    for (int hour = 0; hour < 24; hour++) {
        pms_civil c = {.year = 2026, .month = 4, .day = 5, .hour = hour, .minute = 30};
        (void)pms_tz_from_local(tz, &c, NULL);
        c.month = 10;
        c.day = 4;
        (void)pms_tz_from_local(tz, &c, NULL);
    }
    for (int year = -1000; year <= 3000; year += 250) {
        pms_date d = {year, 1, 1};
        (void)pms_tz_day_start(tz, d);
    }
    /* Around the data's own transitions: the transitions table starts after the two headers,
     * but any 8 bytes read as an instant in seconds are as good a probe. */
    for (size_t off = 44; off + 8 <= size && off < 44 + 8 * 16; off += 8) {
        int64_t secs = 0;
        for (int k = 0; k < 8; k++)
            secs = (int64_t)((uint64_t)secs << 8 | data[off + (size_t)k]);
        if (secs > INT64_MAX / 1000 - 7200 || secs < INT64_MIN / 1000 + 7200)
            continue;
        convert(tz, secs * 1000 - 1);
        convert(tz, secs * 1000);
        convert(tz, secs * 1000 + 3600000);
    }
    pms_tz_free(tz);
    return 0;
}
