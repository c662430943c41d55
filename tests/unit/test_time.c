/* Civil dates, ISO 8601 and HTTP dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pmsync/time.h"

static void days_round_trip_over_four_centuries(void **state)
{
    (void)state;
    pms_date epoch = {1970, 1, 1};
    assert_int_equal(pms_days_from_date(epoch), 0);
    pms_date leap = {2024, 2, 29};
    assert_int_equal(pms_days_from_date(leap), 19782);
    for (int64_t days = -146097; days <= 2 * 146097; days += 7) {
        pms_date d = pms_date_from_days(days);
        assert_true(pms_date_valid(d));
        assert_int_equal(pms_days_from_date(d), days);
    }
    pms_date d = {2026, 11, 21};
    assert_int_equal(pms_date_weekday(d), 6); /* a Saturday */
}

static void date_parse_rejects_impossible_dates(void **state)
{
    (void)state;
    pms_date d;
    pms_error err;
    assert_int_equal(pms_date_parse("2026-02-28", &d, &err), PMS_OK);
    assert_int_equal(d.day, 28);
    assert_int_equal(pms_date_parse("2026-02-29", &d, &err), PMS_ERR_PARSE);
    assert_int_equal(pms_date_parse("2024-02-29", &d, &err), PMS_OK);
    assert_int_equal(pms_date_parse("2026-13-01", &d, &err), PMS_ERR_PARSE);
    assert_int_equal(pms_date_parse("2026-1-01", &d, &err), PMS_ERR_PARSE);
    assert_int_equal(pms_date_parse("2026-01-01x", &d, &err), PMS_ERR_PARSE);
    assert_int_equal(pms_date_parse(NULL, &d, &err), PMS_ERR_PARSE);
}

static void iso8601_offsets_give_utc_instants(void **state)
{
    (void)state;
    pms_instant t;
    int off;
    char buf[PMS_TIME_BUFLEN];
    assert_int_equal(pms_iso8601_parse("2026-03-02T09:30:00.000+11:00", &t, &off, NULL), PMS_OK);
    assert_int_equal(off, 11 * 3600);
    pms_format_utc(t, buf);
    assert_string_equal(buf, "2026-03-01T22:30:00.000Z");
    pms_format_offset(t, off, buf);
    assert_string_equal(buf, "2026-03-02T09:30:00.000+11:00");

    /* Medirecords' created/updated stamps: +0000 without a colon. */
    assert_int_equal(pms_iso8601_parse("2026-02-20T01:12:33.529+0000", &t, &off, NULL), PMS_OK);
    pms_format_utc(t, buf);
    assert_string_equal(buf, "2026-02-20T01:12:33.529Z");

    assert_int_equal(pms_iso8601_parse("2024-02-01T09:00:00-05:00", &t, NULL, NULL), PMS_OK);
    pms_format_utc(t, buf);
    assert_string_equal(buf, "2024-02-01T14:00:00.000Z");

    assert_int_equal(pms_iso8601_parse("2026-03-01T22:14:05Z", &t, NULL, NULL), PMS_OK);
    assert_int_equal(pms_iso8601_parse("2026-03-02T09:30+10:30", &t, &off, NULL), PMS_OK);
    assert_int_equal(off, 37800);
    /* Extra fraction digits are truncated to milliseconds. */
    assert_int_equal(pms_iso8601_parse("2026-03-01T22:14:05.123456Z", &t, NULL, NULL), PMS_OK);
    assert_int_equal(t % 1000, 123);
}

static void iso8601_rejects_malformed_and_offsetless(void **state)
{
    (void)state;
    pms_instant t;
    pms_error err;
    const char *bad[] = {"",
                         "2026-03-02",
                         "2026-03-02T09:30:00",
                         "2026-03-02T25:30:00Z",
                         "2026-02-30T09:30:00Z",
                         "2026-03-02T09:30:00+1",
                         "2026-03-02T09:30:00.Z",
                         "2026-03-02T09:30:00Z junk",
                         "2026-03-02T09:30:00 10:00",
                         "not a date"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(pms_iso8601_parse(bad[i], &t, NULL, &err), PMS_ERR_PARSE);
        assert_true(strlen(err.message) > 0);
    }
}

static void local_times_have_no_offset(void **state)
{
    (void)state;
    pms_civil c;
    char buf[PMS_TIME_BUFLEN];
    assert_int_equal(pms_iso8601_parse_local("2025-10-15T00:00", &c, NULL), PMS_OK);
    assert_int_equal(c.hour, 0);
    pms_format_civil_minutes(&c, buf);
    assert_string_equal(buf, "2025-10-15T00:00");
    assert_int_equal(pms_iso8601_parse_local("2025-10-15T23:59:30", &c, NULL), PMS_OK);
    assert_int_equal(c.second, 30);
    assert_int_equal(pms_iso8601_parse_local("2025-10-15T09:30+10:00", &c, NULL), PMS_ERR_PARSE);
    assert_int_equal(pms_iso8601_parse_local("2025-10-15", &c, NULL), PMS_ERR_PARSE);
}

static void http_dates_in_three_forms(void **state)
{
    (void)state;
    pms_instant t;
    char buf[PMS_TIME_BUFLEN];
    assert_int_equal(pms_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), PMS_OK);
    pms_format_utc(t, buf);
    assert_string_equal(buf, "1994-11-06T08:49:37.000Z");
    assert_int_equal(pms_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), PMS_OK);
    pms_format_utc(t, buf);
    assert_string_equal(buf, "1994-11-06T08:49:37.000Z");
    assert_int_equal(pms_http_date_parse("Sun Nov  6 08:49:37 1994", &t), PMS_OK);
    pms_format_utc(t, buf);
    assert_string_equal(buf, "1994-11-06T08:49:37.000Z");
    assert_int_equal(pms_http_date_parse("120", &t), PMS_ERR_PARSE);
    assert_int_equal(pms_http_date_parse("Sun, 36 Nov 1994 08:49:37 GMT", &t), PMS_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(days_round_trip_over_four_centuries),
        cmocka_unit_test(date_parse_rejects_impossible_dates),
        cmocka_unit_test(iso8601_offsets_give_utc_instants),
        cmocka_unit_test(iso8601_rejects_malformed_and_offsetless),
        cmocka_unit_test(local_times_have_no_offset),
        cmocka_unit_test(http_dates_in_three_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
