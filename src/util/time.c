#include "pmsync/time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MS_PER_DAY 86400000LL

pms_instant pms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (pms_instant)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Howard Hinnant's days_from_civil / civil_from_days, proleptic Gregorian. */
int64_t pms_days_from_date(pms_date d)
{
    int64_t y = d.year - (d.month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (d.month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

pms_date pms_date_from_days(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    pms_date out = {(int)(y + (m <= 2)), (int)m, (int)d};
    return out;
}

int pms_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return days[month - 1];
}

bool pms_date_valid(pms_date d)
{
    return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= pms_days_in_month(d.year, d.month);
}

pms_date pms_date_add_days(pms_date d, int64_t days)
{
    return pms_date_from_days(pms_days_from_date(d) + days);
}

int pms_date_compare(pms_date a, pms_date b)
{
    int64_t da = pms_days_from_date(a), db = pms_days_from_date(b);
    return da < db ? -1 : da > db ? 1 : 0;
}

int pms_date_weekday(pms_date d)
{
    int64_t days = pms_days_from_date(d);
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

pms_instant pms_civil_to_utc_instant(const pms_civil *c)
{
    pms_date d = {c->year, c->month, c->day};
    int64_t days = pms_days_from_date(d), day_ms, t;
    int64_t time_ms =
        ((int64_t)c->hour * 3600 + (int64_t)c->minute * 60 + c->second) * 1000 + c->millis;
    /* A civil time beyond the range of an instant (about 292 million years either side of
     * 1970, as the zone conversions of extreme instants give) saturates; never
     * PMS_INSTANT_NONE. */
    if (__builtin_mul_overflow(days, (int64_t)MS_PER_DAY, &day_ms) ||
        __builtin_add_overflow(day_ms, time_ms, &t) || t == INT64_MIN)
        return days < 0 ? INT64_MIN + 1 : INT64_MAX;
    return t;
}

void pms_civil_from_utc_instant(pms_instant t, pms_civil *out)
{
    int64_t days = t / MS_PER_DAY;
    int64_t rem = t % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days -= 1;
    }
    pms_date d = pms_date_from_days(days);
    out->year = d.year;
    out->month = d.month;
    out->day = d.day;
    out->hour = (int)(rem / 3600000);
    out->minute = (int)(rem / 60000 % 60);
    out->second = (int)(rem / 1000 % 60);
    out->millis = (int)(rem % 1000);
}

bool pms_civil_valid(const pms_civil *c)
{
    pms_date d = {c->year, c->month, c->day};
    return pms_date_valid(d) && c->hour >= 0 && c->hour <= 23 && c->minute >= 0 &&
           c->minute <= 59 && c->second >= 0 && c->second <= 59 && c->millis >= 0 &&
           c->millis <= 999;
}

/* Reads exactly n digits. */
static bool read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool parse_date_part(const char **p, pms_date *d)
{
    return read_digits(p, 4, &d->year) && *(*p)++ == '-' && read_digits(p, 2, &d->month) &&
           *(*p)++ == '-' && read_digits(p, 2, &d->day) && pms_date_valid(*d);
}

int pms_date_parse(const char *s, pms_date *out, pms_error *err)
{
    if (s == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "missing date");
    const char *p = s;
    pms_date d;
    if (!parse_date_part(&p, &d) || *p != '\0')
        return pms_error_set(err, PMS_ERR_PARSE, "invalid date (expected YYYY-MM-DD)");
    *out = d;
    return PMS_OK;
}

void pms_date_format(pms_date d, char buf[PMS_TIME_BUFLEN])
{
    snprintf(buf, PMS_TIME_BUFLEN, "%04d-%02d-%02d", d.year, d.month, d.day);
}

/* "YYYY-MM-DDThh:mm[:ss[.fff...]]" into c; *p left after it. */
static bool parse_civil_part(const char **p, pms_civil *c)
{
    pms_date d;
    if (!parse_date_part(p, &d))
        return false;
    c->year = d.year;
    c->month = d.month;
    c->day = d.day;
    c->second = 0;
    c->millis = 0;
    if (**p != 'T' && **p != 't' && **p != ' ')
        return false;
    (*p)++;
    if (!read_digits(p, 2, &c->hour) || *(*p)++ != ':' || !read_digits(p, 2, &c->minute))
        return false;
    if (**p == ':') {
        (*p)++;
        if (!read_digits(p, 2, &c->second))
            return false;
        if (**p == '.' || **p == ',') {
            (*p)++;
            int digits = 0, millis = 0;
            while (isdigit((unsigned char)**p)) {
                if (digits < 3)
                    millis = millis * 10 + (**p - '0');
                digits++;
                (*p)++;
            }
            if (digits == 0)
                return false;
            for (int i = digits; i < 3; i++)
                millis *= 10;
            c->millis = millis;
        }
    }
    return pms_civil_valid(c);
}

int pms_iso8601_parse(const char *s, pms_instant *out, int *offset_seconds, pms_error *err)
{
    if (s == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "missing timestamp");
    const char *p = s;
    pms_civil c;
    if (!parse_civil_part(&p, &c))
        return pms_error_set(err, PMS_ERR_PARSE, "invalid timestamp");
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int hh, mm = 0;
        if (!read_digits(&p, 2, &hh))
            return pms_error_set(err, PMS_ERR_PARSE, "invalid timestamp offset");
        if (*p == ':')
            p++;
        if (*p != '\0' && !read_digits(&p, 2, &mm))
            return pms_error_set(err, PMS_ERR_PARSE, "invalid timestamp offset");
        if (hh > 18 || mm > 59)
            return pms_error_set(err, PMS_ERR_PARSE, "timestamp offset out of range");
        offset = sign * (hh * 3600 + mm * 60);
    } else {
        return pms_error_set(err, PMS_ERR_PARSE, "timestamp has no UTC offset");
    }
    if (*p != '\0')
        return pms_error_set(err, PMS_ERR_PARSE, "trailing characters after timestamp");
    *out = pms_civil_to_utc_instant(&c) - (pms_instant)offset * 1000;
    if (offset_seconds)
        *offset_seconds = offset;
    return PMS_OK;
}

int pms_iso8601_parse_local(const char *s, pms_civil *out, pms_error *err)
{
    if (s == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "missing local time");
    const char *p = s;
    pms_civil c;
    if (!parse_civil_part(&p, &c))
        return pms_error_set(err, PMS_ERR_PARSE, "invalid local time");
    if (*p != '\0')
        return pms_error_set(err, PMS_ERR_PARSE, "local time must not carry an offset");
    *out = c;
    return PMS_OK;
}

void pms_format_utc(pms_instant t, char buf[PMS_TIME_BUFLEN])
{
    pms_civil c;
    pms_civil_from_utc_instant(t, &c);
    snprintf(buf, PMS_TIME_BUFLEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day,
             c.hour, c.minute, c.second, c.millis);
}

void pms_format_offset(pms_instant t, int offset_seconds, char buf[PMS_TIME_BUFLEN])
{
    pms_civil c;
    pms_civil_from_utc_instant(t + (pms_instant)offset_seconds * 1000, &c);
    int off = offset_seconds < 0 ? -offset_seconds : offset_seconds;
    snprintf(buf, PMS_TIME_BUFLEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", c.year, c.month,
             c.day, c.hour, c.minute, c.second, c.millis, offset_seconds < 0 ? '-' : '+',
             off / 3600, off / 60 % 60);
}

void pms_format_civil_minutes(const pms_civil *c, char buf[PMS_TIME_BUFLEN])
{
    snprintf(buf, PMS_TIME_BUFLEN, "%04d-%02d-%02dT%02d:%02d", c->year, c->month, c->day, c->hour,
             c->minute);
}

static int month_from_abbrev(const char *s)
{
    static const char *names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, names[i], 3) == 0)
            return i + 1;
    return 0;
}

int pms_http_date_parse(const char *s, pms_instant *out)
{
    /* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT",
     * asctime "Sun Nov  6 08:49:37 1994". */
    char mon[4] = {0};
    int day, year, hh, mm, ss;
    const char *comma = strchr(s, ',');
    pms_civil c = {0};
    if (comma) {
        const char *p = comma + 1;
        if (sscanf(p, " %d %3s %d %d:%d:%d GMT", &day, mon, &year, &hh, &mm, &ss) == 6) {
            /* IMF-fixdate */
        } else if (sscanf(p, " %d-%3s-%d %d:%d:%d GMT", &day, mon, &year, &hh, &mm, &ss) == 6) {
            year += year < 70 ? 2000 : (year < 100 ? 1900 : 0);
        } else {
            return PMS_ERR_PARSE;
        }
    } else {
        char wday[4];
        if (sscanf(s, "%3s %3s %d %d:%d:%d %d", wday, mon, &day, &hh, &mm, &ss, &year) != 7)
            return PMS_ERR_PARSE;
    }
    c.year = year;
    c.month = month_from_abbrev(mon);
    c.day = day;
    c.hour = hh;
    c.minute = mm;
    c.second = ss;
    if (!pms_civil_valid(&c))
        return PMS_ERR_PARSE;
    *out = pms_civil_to_utc_instant(&c);
    return PMS_OK;
}
