#include "dataset.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names_data.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const melbourne_suburbs[] = {"Richmond", "Brunswick", "Carlton",  "Footscray",
                                                "Hawthorn", "Northcote", "St Kilda", "Box Hill"};
static const char *const melbourne_postcodes[] = {"3121", "3056", "3053", "3011",
                                                  "3122", "3070", "3182", "3128"};
static const char *const sydney_suburbs[] = {"Newtown",   "Parramatta",   "Bondi Junction",
                                             "Chatswood", "Marrickville", "Manly"};
static const char *const sydney_postcodes[] = {"2042", "2150", "2022", "2067", "2204", "2095"};
static const char *const brisbane_suburbs[] = {"Paddington", "Toowong",   "Woolloongabba",
                                               "New Farm",   "Chermside", "Indooroopilly"};
static const char *const brisbane_postcodes[] = {"4064", "4066", "4102", "4005", "4032", "4068"};
static const char *const adelaide_suburbs[] = {"Norwood", "Glenelg", "Unley", "Prospect", "Marion"};
static const char *const adelaide_postcodes[] = {"5067", "5045", "5061", "5082", "5043"};
static const char *const perth_suburbs[] = {"Fremantle", "Subiaco", "Joondalup", "Mount Lawley",
                                            "Victoria Park"};
static const char *const perth_postcodes[] = {"6160", "6008", "6027", "6050", "6100"};
static const char *const hobart_suburbs[] = {"Sandy Bay", "Battery Point", "New Town", "Kingston",
                                             "Moonah"};
static const char *const hobart_postcodes[] = {"7005", "7004", "7008", "7050", "7009"};
static const char *const lord_howe_suburbs[] = {"Lord Howe Island"};
static const char *const lord_howe_postcodes[] = {"2898"};
static const char *const darwin_suburbs[] = {"Nightcliff", "Parap", "Casuarina", "Palmerston"};
static const char *const darwin_postcodes[] = {"0810", "0820", "0810", "0830"};

#define REGION(zone, state, area, name)                                                            \
    {                                                                                              \
        zone, state, area, name##_suburbs, name##_postcodes, COUNT(name##_suburbs)                 \
    }

static const sbx_region regions[] = {
    REGION("Australia/Melbourne", "VIC", "03", melbourne),
    REGION("Australia/Sydney", "NSW", "02", sydney),
    REGION("Australia/Brisbane", "QLD", "07", brisbane),
    REGION("Australia/Adelaide", "SA", "08", adelaide),
    REGION("Australia/Perth", "WA", "08", perth),
    REGION("Australia/Hobart", "TAS", "03", hobart),
    REGION("Australia/Lord_Howe", "NSW", "02", lord_howe),
    REGION("Australia/Darwin", "NT", "08", darwin),
};

const sbx_region *sbx_region_at(size_t practice_index)
{
    return &regions[practice_index % COUNT(regions)];
}

size_t sbx_region_count(void)
{
    return COUNT(regions);
}

const sbx_region *sbx_region_dst_first(size_t practice_index)
{
    /* Melbourne, Adelaide, Lord Howe, Sydney, Brisbane, Perth, Hobart, Darwin. */
    static const size_t order[] = {0, 3, 6, 1, 2, 4, 5, 7};
    return &regions[order[practice_index % COUNT(order)]];
}

bool sbx_set_string(char **dst, const char *src)
{
    char *copy = NULL;
    if (src != NULL && (copy = strdup(src)) == NULL)
        return false;
    free(*dst);
    *dst = copy;
    return true;
}

size_t sbx_pick_weighted(sbx_prng *prng, const int *weights, size_t count)
{
    int total = 0;
    for (size_t i = 0; i < count; i++)
        total += weights[i];
    if (total <= 0)
        return 0;
    int r = (int)sbx_prng_below(prng, (uint32_t)total);
    for (size_t i = 0; i < count; i++) {
        if (r < weights[i])
            return i;
        r -= weights[i];
    }
    return count - 1;
}

void sbx_gen_person(sbx_prng *prng, double middle_chance, sbx_person *out)
{
    out->female = sbx_prng_below(prng, 2) == 0;
    const char *const *given = out->female ? sbx_female_given_names : sbx_male_given_names;
    size_t given_count = out->female ? sbx_female_given_count : sbx_male_given_count;
    out->given = given[sbx_prng_below(prng, (uint32_t)given_count)];
    out->middle = NULL;
    if (sbx_prng_chance(prng, middle_chance)) {
        const char *middle = given[sbx_prng_below(prng, (uint32_t)given_count)];
        if (strcmp(middle, out->given) != 0)
            out->middle = middle;
    }
    out->family = sbx_family_names[sbx_prng_below(prng, (uint32_t)sbx_family_count)];
}

void sbx_gen_practice_name(sbx_prng *prng, const sbx_region *region, unsigned *used_mask, char *buf,
                           size_t len)
{
    static const char *const suffixes[] = {
        "Family Medical Centre", "Medical Clinic", "General Practice", "Health Hub",
        "Medical Group",         "Doctors",        "Family Practice",  "Medical & Skin Centre",
    };
    size_t n = region->suburb_count;
    size_t pick = sbx_prng_below(prng, (uint32_t)n);
    for (size_t tries = 0; tries < n && n <= 32 && (*used_mask & (1u << pick)); tries++)
        pick = (pick + 1) % n;
    if (n <= 32)
        *used_mask |= 1u << pick;
    snprintf(buf, len, "%s %s", region->suburbs[pick],
             suffixes[sbx_prng_below(prng, (uint32_t)COUNT(suffixes))]);
}

/* Eight digits after the "04" prefix. */
static void mobile_digits(sbx_prng *prng, char digits[11])
{
    digits[0] = '0';
    digits[1] = '4';
    for (int i = 2; i < 10; i++)
        digits[i] = (char)('0' + sbx_prng_below(prng, 10));
    digits[10] = '\0';
}

void sbx_gen_mobile_plain(sbx_prng *prng, char *buf, size_t len)
{
    char d[11];
    mobile_digits(prng, d);
    snprintf(buf, len, "%.4s %.3s %.3s", d, d + 4, d + 7);
}

void sbx_gen_mobile(sbx_prng *prng, char *buf, size_t len)
{
    char d[11];
    mobile_digits(prng, d);
    static const int weights[] = {40, 25, 15, 10, 10};
    switch (sbx_pick_weighted(prng, weights, COUNT(weights))) {
    case 0:
        snprintf(buf, len, "%.4s %.3s %.3s", d, d + 4, d + 7);
        break;
    case 1:
        snprintf(buf, len, "%s", d);
        break;
    case 2:
        snprintf(buf, len, "+61 %.3s %.3s %.3s", d + 1, d + 4, d + 7);
        break;
    case 3:
        snprintf(buf, len, "+61%s", d + 1);
        break;
    default:
        snprintf(buf, len, "%.4s-%.3s-%.3s", d, d + 4, d + 7);
        break;
    }
}

void sbx_gen_landline(sbx_prng *prng, const sbx_region *region, char *buf, size_t len)
{
    char local[9];
    /* Local numbers start 5-9 in the capitals. */
    local[0] = (char)('0' + sbx_prng_range(prng, 5, 9));
    for (int i = 1; i < 8; i++)
        local[i] = (char)('0' + sbx_prng_below(prng, 10));
    local[8] = '\0';
    static const int weights[] = {60, 25, 15};
    switch (sbx_pick_weighted(prng, weights, COUNT(weights))) {
    case 0:
        snprintf(buf, len, "(%s) %.4s %.4s", region->area_code, local, local + 4);
        break;
    case 1:
        snprintf(buf, len, "%s %.4s %.4s", region->area_code, local, local + 4);
        break;
    default:
        snprintf(buf, len, "%s%s", region->area_code, local);
        break;
    }
}

/* Lower-case letters only ("O'Brien" -> "obrien", "Van der Berg" -> "vanderberg"). */
static void email_part(const char *s, char *out, size_t len)
{
    size_t n = 0;
    for (; *s != '\0' && n + 1 < len; s++) {
        if (isalpha((unsigned char)*s))
            out[n++] = (char)tolower((unsigned char)*s);
    }
    out[n] = '\0';
}

void sbx_gen_email(sbx_prng *prng, const char *given, const char *family, char *buf, size_t len)
{
    static const char *const domains[] = {"example.com", "example.net", "example.org",
                                          "mail.example.com", "inbox.example.net"};
    char g[32], f[32];
    email_part(given, g, sizeof(g));
    email_part(family, f, sizeof(f));
    const char *domain = domains[sbx_prng_below(prng, (uint32_t)COUNT(domains))];
    switch (sbx_prng_below(prng, 5)) {
    case 0:
        snprintf(buf, len, "%s.%s@%s", g, f, domain);
        break;
    case 1:
        snprintf(buf, len, "%s%s%d@%s", g, f, sbx_prng_range(prng, 1, 99), domain);
        break;
    case 2:
        snprintf(buf, len, "%c%s@%s", g[0] != '\0' ? g[0] : 'x', f, domain);
        break;
    case 3:
        snprintf(buf, len, "%s_%s@%s", f, g, domain);
        break;
    default:
        snprintf(buf, len, "%s.%s%d@%s", g, f, sbx_prng_range(prng, 60, 99), domain);
        break;
    }
}

pms_date sbx_gen_birth_date(sbx_prng *prng, pms_date today, int min_age, int max_age)
{
    int64_t today_days = pms_days_from_date(today);
    int64_t oldest = today_days - (int64_t)(max_age + 1) * 36525 / 100 + 1;
    int64_t youngest = today_days - (int64_t)min_age * 36525 / 100;
    if (youngest <= oldest)
        return pms_date_from_days(youngest);
    uint32_t span = (uint32_t)(youngest - oldest);
    return pms_date_from_days(oldest + sbx_prng_below(prng, span + 1));
}

void sbx_gen_street(sbx_prng *prng, char *buf, size_t len)
{
    static const char *const kinds[] = {"Street", "Road",  "Avenue", "Parade", "Crescent",
                                        "Lane",   "Drive", "Court",  "Place",  "Terrace"};
    static const int kind_weights[] = {45, 20, 10, 5, 5, 3, 5, 3, 2, 2};
    const char *name = sbx_street_names[sbx_prng_below(prng, (uint32_t)sbx_street_count)];
    const char *kind = kinds[sbx_pick_weighted(prng, kind_weights, COUNT(kind_weights))];
    int number = sbx_prng_range(prng, 1, 240);
    if (sbx_prng_chance(prng, 0.15))
        snprintf(buf, len, "%d/%d %s %s", sbx_prng_range(prng, 1, 12), number, name, kind);
    else
        snprintf(buf, len, "%d %s %s", number, name, kind);
}

void sbx_day_layout_init(sbx_day_layout *layout, const int *lengths, int count)
{
    int total = 0;
    for (int i = 0; i < count; i++)
        total += lengths[i];
    int open = SBX_DAY_CLOSE_MINUTES - SBX_DAY_OPEN_MINUTES;
    layout->lengths = lengths;
    layout->count = count;
    layout->next = 0;
    layout->fits = total <= open;
    layout->slack_slots = layout->fits ? (open - total) / 15 : 0;
    layout->step = count > 0 ? (open / count) / 5 * 5 : 15;
    if (layout->step < 5)
        layout->step = 5;
    layout->minute = SBX_DAY_OPEN_MINUTES;
}

int sbx_day_layout_next(sbx_day_layout *layout, sbx_prng *prng)
{
    int i = layout->next++;
    if (!layout->fits)
        return SBX_DAY_OPEN_MINUTES + i * layout->step;
    /* Spread the free time over the day: on average the slack left divided by the
     * appointments left (plus one share for the end of the day). */
    int max_gap = 2 * layout->slack_slots / (layout->count - i + 1);
    int gap = (int)sbx_prng_below(prng, (uint32_t)max_gap + 1);
    layout->slack_slots -= gap;
    layout->minute += gap * 15;
    int start = layout->minute;
    layout->minute += layout->lengths[i];
    return start;
}

pms_instant sbx_local_instant(const pms_tz *tz, pms_date day, int minute_of_day)
{
    pms_civil c = {day.year, day.month, day.day, minute_of_day / 60, minute_of_day % 60, 0, 0};
    return pms_tz_from_local(tz, &c, NULL);
}

bool sbx_dst_change_on(const pms_tz *tz, pms_date day, sbx_dst_change *out)
{
    pms_instant from = pms_tz_day_start(tz, day);
    pms_instant to = pms_tz_day_start(tz, pms_date_add_days(day, 1));
    int before = pms_tz_offset_at(tz, from, NULL);
    if (pms_tz_offset_at(tz, to - 1, NULL) == before)
        return false;
    pms_instant lo = from, hi = to - 1; /* offset(lo) == before, offset(hi) != before */
    while (hi - lo > 1000) {
        pms_instant mid = lo + (hi - lo) / 2;
        if (pms_tz_offset_at(tz, mid, NULL) == before)
            lo = mid;
        else
            hi = mid;
    }
    out->at = hi / 1000 * 1000;
    out->before = pms_tz_offset_at(tz, out->at - 1, NULL);
    out->after = pms_tz_offset_at(tz, out->at, NULL);
    out->forward = out->after > out->before;
    int shift = out->forward ? out->after - out->before : out->before - out->after;
    out->minutes = shift / 60;
    /* A gap starts at the old wall time of the change; an overlap at the new one. */
    int wall_offset = out->forward ? out->before : out->after;
    pms_civil_from_utc_instant(out->at + (pms_instant)wall_offset * 1000, &out->local_start);
    return true;
}
