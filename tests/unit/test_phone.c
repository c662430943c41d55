/* Phone numbers to E.164. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/phone.h"

typedef struct phone_case {
    const char *raw;
    const char *e164; /* NULL: not readable */
} phone_case;

static void check_table(const phone_case *cases, size_t n, pms_phone_region region)
{
    for (size_t i = 0; i < n; i++) {
        char out[PMS_PHONE_E164_LEN];
        memset(out, 'z', sizeof out);
        bool ok = pms_phone_to_e164(cases[i].raw, region, out);
        if (cases[i].e164 == NULL) {
            if (ok)
                fail_msg("\"%s\" should not read, got %s", cases[i].raw, out);
            assert_string_equal(out, "");
        } else {
            if (!ok)
                fail_msg("\"%s\" should read as %s", cases[i].raw, cases[i].e164);
            assert_string_equal(out, cases[i].e164);
        }
    }
}

static void australian_numbers(void **state)
{
    (void)state;
    static const phone_case cases[] = {
        /* mobiles */
        {"0412 345 678", "+61412345678"},
        {"0412345678", "+61412345678"},
        {"  0412-345-678  ", "+61412345678"},
        {"0412.345.678", "+61412345678"},
        {"(04) 1234 5678", "+61412345678"},
        {"+61 412 345 678", "+61412345678"},
        {"+61412345678", "+61412345678"},
        {"61412345678", "+61412345678"},
        {"61 0412 345 678", "+61412345678"},
        {"+61 (0)412 345 678", "+61412345678"},
        {"+61 0412 345 678", "+61412345678"},
        {"(+61) 412 345 678", "+61412345678"},
        {"0011 61 412 345 678", "+61412345678"},
        {"0412\xc2\xa0"
         "345\xc2\xa0"
         "678",
         "+61412345678"},
        /* landlines with an area code */
        {"(03) 9123 4567", "+61391234567"},
        {"03 9123 4567", "+61391234567"},
        {"02 9876 5432", "+61298765432"},
        {"(07) 3123 4567", "+61731234567"},
        {"08 8123 4567", "+61881234567"},
        {"03/9123 4567", "+61391234567"},
        {"+61 3 9123 4567", "+61391234567"},
        {"+61 (0)3 9123 4567", "+61391234567"},
        {"61 3 9123 4567", "+61391234567"},
        /* service numbers */
        {"13 12 34", "+61131234"},
        {"131234", "+61131234"},
        {"1300 123 456", "+611300123456"},
        {"1300-123-456", "+611300123456"},
        {"1800 123 456", "+611800123456"},
        {"+61 1300 123 456", "+611300123456"},
        {"+61 13 12 34", "+61131234"},
        /* other countries written explicitly */
        {"+64 21 123 4567", "+64211234567"},
        {"+44 20 7946 0958", "+442079460958"},
        {"+44 (0)20 7946 0958", "+442079460958"},
        {"+1 212 555 0123", "+12125550123"},
        {"0011 1 212 555 0123", "+12125550123"},
        /* not guessed */
        {"9123 4567", NULL},       /* local, no area code */
        {"91234567", NULL},        /* local, no area code */
        {"0412 345 67", NULL},     /* too short */
        {"0412 345 6789", NULL},   /* too long */
        {"0512 345 678", NULL},    /* no such prefix */
        {"0112 345 678", NULL},    /* no such prefix */
        {"1900 123 456", NULL},    /* premium */
        {"1300 123 45", NULL},     /* short */
        {"13 12 345", NULL},       /* 13 number with a digit too many */
        {"+61 (0)13 12 34", NULL}, /* service numbers have no trunk 0 */
        {"+61 512 345 678", NULL},
        {"+61 412 345 67", NULL},
        {"0412 345 678 x12", NULL},
        {"0412 345 678 ext. 12", NULL},
        {"03 9123 4567 #2", NULL},
        {"O412 345 678", NULL}, /* letter O */
        {"call 0412 345 678", NULL},
        {"0412 345 678 / 03 9123 4567", NULL},
        {"0412+345678", NULL},
        {"++61412345678", NULL},
        {"+", NULL},
        {"", NULL},
        {"   ", NULL},
        {"-", NULL},
        {"(212) 555-0123", NULL},        /* a US number in an Australian practice is not guessed */
        {"+0 1234 5678", NULL},          /* no country code starts with 0 */
        {"+64 1234", NULL},              /* fewer than 8 digits */
        {"+64 1234 5678 9012 34", NULL}, /* more than 15 digits */
        {"0412 345 678\xe2\x80\x8b", NULL},
    };
    check_table(cases, sizeof cases / sizeof cases[0], PMS_PHONE_AU);
}

static void us_numbers(void **state)
{
    (void)state;
    static const phone_case cases[] = {
        {"(212) 555-0123", "+12125550123"},
        {"212-555-0123", "+12125550123"},
        {"212.555.0123", "+12125550123"},
        {"212 555 0123", "+12125550123"},
        {"2125550123", "+12125550123"},
        {"1-212-555-0123", "+12125550123"},
        {"1 (212) 555-0123", "+12125550123"},
        {"12125550123", "+12125550123"},
        {"+1 212 555 0123", "+12125550123"},
        {"+1 (415) 555-2671", "+14155552671"},
        {"+12125550123", "+12125550123"},
        {"(907) 555-0199", "+19075550199"},
        {"011 61 412 345 678", "+61412345678"},
        {"+61 412 345 678", "+61412345678"},
        {"+61 (0)3 9123 4567", "+61391234567"},
        {"(112) 555-0123", NULL}, /* area code starts with 1 */
        {"(012) 555-0123", NULL}, /* area code starts with 0 */
        {"(212) 155-0123", NULL}, /* exchange starts with 1 */
        {"(212) 055-0123", NULL}, /* exchange starts with 0 */
        {"(911) 555-0123", NULL}, /* N11 is not an area code */
        {"(212) 411-0123", NULL}, /* N11 is not an exchange */
        {"555-0123", NULL},       /* no area code */
        {"212-555-012", NULL},
        {"212-555-01234", NULL},
        {"2-212-555-0123", NULL}, /* 11 digits not starting with 1 */
        {"+1 112 555 0123", NULL},
        {"+1 212 555 012", NULL},
        {"(212) 555-0123 x123", NULL},
        {"(212) 555-0123 ext. 12", NULL},
        {"212-555-0123 ext 4", NULL},
        {"212-555-0123,4", NULL},
        {"1-800-FLOWERS", NULL},
        {"0412 345 678", NULL}, /* an Australian mobile without +61 in a US practice */
        {"", NULL},
    };
    check_table(cases, sizeof cases / sizeof cases[0], PMS_PHONE_US);
}

static void null_input_reads_nothing(void **state)
{
    (void)state;
    char out[PMS_PHONE_E164_LEN] = "junk";
    assert_false(pms_phone_to_e164(NULL, PMS_PHONE_AU, out));
    assert_string_equal(out, "");
    assert_false(pms_phone_to_e164("0412 345 678", PMS_PHONE_AU, NULL));
}

static void normalize_keeps_unreadable_text_trimmed(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        pms_phone_region region;
        const char *want; /* NULL: returns NULL */
    } cases[] = {
        {"0412 345 678", PMS_PHONE_AU, "+61412345678"},
        {"  (03) 9123 4567\n", PMS_PHONE_AU, "+61391234567"},
        {"(212) 555-0123", PMS_PHONE_US, "+12125550123"},
        {"  9123 4567  ", PMS_PHONE_AU, "9123 4567"},
        {"\t0412 345 678 x12 ", PMS_PHONE_AU, "0412 345 678 x12"},
        {"(212) 555-0123 ext. 12", PMS_PHONE_US, "(212) 555-0123 ext. 12"},
        {"see notes", PMS_PHONE_US, "see notes"},
        {"", PMS_PHONE_AU, NULL},
        {" \t\r\n ", PMS_PHONE_AU, NULL},
        {NULL, PMS_PHONE_AU, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = pms_phone_normalize(cases[i].raw, cases[i].region);
        if (cases[i].want == NULL) {
            assert_null(got);
        } else {
            assert_non_null(got);
            assert_string_equal(got, cases[i].want);
        }
        free(got);
    }
}

static void region_follows_practice_zone(void **state)
{
    (void)state;
    assert_int_equal(pms_phone_region_for_timezone("Australia/Melbourne"), PMS_PHONE_AU);
    assert_int_equal(pms_phone_region_for_timezone("Australia/Perth"), PMS_PHONE_AU);
    assert_int_equal(pms_phone_region_for_timezone("America/New_York"), PMS_PHONE_US);
    assert_int_equal(pms_phone_region_for_timezone("America/Los_Angeles"), PMS_PHONE_US);
    assert_int_equal(pms_phone_region_for_timezone("US/Eastern"), PMS_PHONE_US);
    assert_int_equal(pms_phone_region_for_timezone("Pacific/Honolulu"), PMS_PHONE_US);
    assert_int_equal(pms_phone_region_for_timezone("Pacific/Auckland"), PMS_PHONE_AU);
    assert_int_equal(pms_phone_region_for_timezone("UTC"), PMS_PHONE_AU);
    assert_int_equal(pms_phone_region_for_timezone("Americas"), PMS_PHONE_AU);
    assert_int_equal(pms_phone_region_for_timezone(""), PMS_PHONE_AU);
    assert_int_equal(pms_phone_region_for_timezone(NULL), PMS_PHONE_AU);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(australian_numbers),
        cmocka_unit_test(us_numbers),
        cmocka_unit_test(null_input_reads_nothing),
        cmocka_unit_test(normalize_keeps_unreadable_text_trimmed),
        cmocka_unit_test(region_follows_practice_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
