/* IANA time zones from the system's TZif files (RFC 8536); see include/pmsync/tz.h.
 *
 * A zone becomes an immutable table: its transition instants (seconds, ascending), the local
 * time type in force from each, the type before the first one, and the POSIX TZ rule from the
 * footer for instants after the last one. The registry (a list of loaded zones and the zone
 * directory) is guarded by registry_lock; the conversion functions only read a loaded table, so
 * they take no lock and allocate nothing.
 */
#include "pmsync/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX    128       /* longest accepted zone name, in bytes */
#define TZ_FILE_MAX    (1 << 20) /* a larger file is not a zone file */
#define TZ_HEADER_LEN  44
/* RFC 8536 3.2: utoff SHOULD be within -25:59:59 .. +25:59:59; anything else is refused. */
#define TZ_UTOFF_MIN (-89999)
#define TZ_UTOFF_MAX 93599
/* RFC 8536 3.3.1: rule times may range over -167..167 hours. */
#define TZ_RULE_HOURS_MAX 167
/* Any instant with a given wall time lies within this many seconds of it (|utoff| < 26 h). */
#define TZ_WINDOW_SECONDS (27 * 3600)
/* Distinct offsets met around one wall time; real zones have two at most. */
#define TZ_MAX_CANDIDATES 8
/* Transitions inspected around one wall time before giving up on a pathological file. */
#define TZ_MAX_SCAN 256
/* Wall times (ms) beyond this are read with one offset: no transition math near overflow. */
#define TZ_WALL_LIMIT (INT64_MAX / 2)
/* Beyond this many seconds from the epoch the footer is not checked against the table. */
#define TZ_CHECK_LIMIT ((int64_t)1 << 40)

#define MS_PER_SECOND   1000
#define SECONDS_PER_DAY 86400

typedef struct tz_type {
    int32_t utoff; /* seconds east of UTC */
    bool isdst;
} tz_type;

typedef enum tz_rule_date_kind {
    TZ_RULE_JULIAN1, /* Jn: 1..365, February 29 never counted */
    TZ_RULE_JULIAN0, /* n: 0..365, February 29 counted in leap years */
    TZ_RULE_MWD,     /* Mm.w.d: weekday d of week w (5 = last) of month m */
} tz_rule_date_kind;

typedef struct tz_rule_date {
    tz_rule_date_kind kind;
    int day; /* Jn and n forms */
    int month, week, weekday;
    int32_t time; /* seconds after local midnight, -167 h .. 167 h */
} tz_rule_date;

/* A POSIX TZ string: "AEST-10AEDT,M10.1.0,M4.1.0/3". */
typedef struct tz_rule {
    tz_type std, dst;
    bool has_dst;
    tz_rule_date start; /* std -> dst, a wall time read with the standard offset */
    tz_rule_date end;   /* dst -> std, a wall time read with the daylight-saving offset */
} tz_rule;

struct pms_tz {
    struct pms_tz *next; /* registry list */
    char *name;
    size_t count;    /* transitions */
    int64_t *at;     /* transition instants in seconds, strictly ascending */
    tz_type *after;  /* the type in force from at[i] */
    tz_type initial; /* the type before at[0] (TZif type 0) */
    bool has_rule;   /* the footer rule governs instants after at[count - 1] (or all, if none) */
    tz_rule rule;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pms_tz *registry_head;       /* guarded by registry_lock */
static char registry_dir[PATH_MAX]; /* set by pms_tz_set_dir; empty = env or default */
static bool registry_dir_too_long;  /* pms_tz_set_dir got a path that does not fit */

/* ---- small arithmetic helpers ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t saturating_add(int64_t a, int64_t b)
{
    int64_t sum;
    if (__builtin_add_overflow(a, b, &sum))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return sum;
}

static int year_of_seconds(int64_t secs)
{
    return pms_date_from_days(floor_div(secs, SECONDS_PER_DAY)).year;
}

static bool is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static bool is_ascii_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- POSIX TZ rule (the TZif footer) ---- */

/* Days since the epoch of the local date a rule names in a year. */
static int64_t rule_date_days(const tz_rule_date *d, int year)
{
    pms_date jan1 = {year, 1, 1};
    int64_t first = pms_days_from_date(jan1);
    switch (d->kind) {
    case TZ_RULE_JULIAN1:
        return first + d->day - 1 + (d->day >= 60 && is_leap_year(year) ? 1 : 0);
    case TZ_RULE_JULIAN0:
        return first + d->day;
    case TZ_RULE_MWD:
        break;
    }
    pms_date month_start = {year, d->month, 1};
    int first_weekday = pms_date_weekday(month_start);
    int mday = 1 + (d->weekday - first_weekday + 7) % 7 + 7 * (d->week - 1);
    int month_len = pms_days_in_month(year, d->month);
    while (mday > month_len)
        mday -= 7;
    return pms_days_from_date(month_start) + mday - 1;
}

/* The instant (seconds) of a rule's transition in a year, the wall time read with utoff. */
static int64_t rule_transition(const tz_rule_date *d, int year, int32_t utoff)
{
    return rule_date_days(d, year) * SECONDS_PER_DAY + d->time - utoff;
}

static tz_type rule_type_at(const tz_rule *r, int64_t secs)
{
    if (!r->has_dst)
        return r->std;
    /* The latest start and end at or before secs, among the neighbouring years (rule times may
     * reach a week into the next or previous year). A start and an end at the same instant
     * (daylight saving all year, "EST5EDT4,0/0,J365/25") leave daylight saving in force. */
    int year = year_of_seconds(secs);
    bool have_start = false, have_end = false;
    int64_t last_start = 0, last_end = 0;
    for (int y = year - 1; y <= year + 1; y++) {
        int64_t s = rule_transition(&r->start, y, r->std.utoff);
        int64_t e = rule_transition(&r->end, y, r->dst.utoff);
        if (s <= secs && (!have_start || s > last_start)) {
            last_start = s;
            have_start = true;
        }
        if (e <= secs && (!have_end || e > last_end)) {
            last_end = e;
            have_end = true;
        }
    }
    if (have_start && (!have_end || last_start >= last_end))
        return r->dst;
    return r->std;
}

/* The instant of the first rule transition strictly after secs. */
static bool rule_next_transition(const tz_rule *r, int64_t secs, int64_t *at)
{
    if (!r->has_dst)
        return false;
    int year = year_of_seconds(secs);
    bool found = false;
    int64_t best = 0;
    for (int y = year - 1; y <= year + 2; y++) {
        int64_t s = rule_transition(&r->start, y, r->std.utoff);
        int64_t e = rule_transition(&r->end, y, r->dst.utoff);
        if (s > secs && (!found || s < best)) {
            best = s;
            found = true;
        }
        if (e > secs && (!found || e < best)) {
            best = e;
            found = true;
        }
    }
    *at = best;
    return found;
}

/* An abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'. */
static bool parse_abbr(const char **p)
{
    const char *s = *p;
    int n = 0;
    if (*s == '<') {
        s++;
        while (is_ascii_alpha(*s) || is_ascii_digit(*s) || *s == '+' || *s == '-') {
            s++;
            n++;
        }
        if (*s != '>' || n < 3)
            return false;
        *p = s + 1;
        return true;
    }
    while (is_ascii_alpha(*s)) {
        s++;
        n++;
    }
    if (n < 3)
        return false;
    *p = s;
    return true;
}

/* An unsigned number of 1..max_digits digits, at most max_value. */
static bool parse_number(const char **p, int max_digits, int max_value, int *out)
{
    const char *s = *p;
    int value = 0, digits = 0;
    while (is_ascii_digit(*s) && digits < max_digits) {
        value = value * 10 + (*s - '0');
        s++;
        digits++;
    }
    if (digits == 0 || is_ascii_digit(*s) || value > max_value)
        return false;
    *p = s;
    *out = value;
    return true;
}

/* [+|-]hh[:mm[:ss]] in seconds, hours at most max_hours. */
static bool parse_hms(const char **p, int max_hours, int32_t *out)
{
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        s++;
    }
    int hours, minutes = 0, seconds = 0;
    if (!parse_number(&s, 3, max_hours, &hours))
        return false;
    if (*s == ':') {
        s++;
        if (!parse_number(&s, 2, 59, &minutes))
            return false;
        if (*s == ':') {
            s++;
            if (!parse_number(&s, 2, 59, &seconds))
                return false;
        }
    }
    *p = s;
    *out = sign * (hours * 3600 + minutes * 60 + seconds);
    return true;
}

/* A POSIX offset (hours west of UTC) as utoff (seconds east). */
static bool parse_posix_offset(const char **p, int32_t *utoff)
{
    int32_t west;
    if (!parse_hms(p, 24, &west))
        return false;
    *utoff = -west;
    return true;
}

/* Jn, n or Mm.w.d, then an optional /time (default 02:00). */
static bool parse_rule_date(const char **p, tz_rule_date *d)
{
    const char *s = *p;
    memset(d, 0, sizeof *d);
    if (*s == 'J') {
        s++;
        d->kind = TZ_RULE_JULIAN1;
        if (!parse_number(&s, 3, 365, &d->day) || d->day < 1)
            return false;
    } else if (*s == 'M') {
        s++;
        d->kind = TZ_RULE_MWD;
        if (!parse_number(&s, 2, 12, &d->month) || d->month < 1 || *s++ != '.' ||
            !parse_number(&s, 1, 5, &d->week) || d->week < 1 || *s++ != '.' ||
            !parse_number(&s, 1, 6, &d->weekday))
            return false;
    } else if (is_ascii_digit(*s)) {
        d->kind = TZ_RULE_JULIAN0;
        if (!parse_number(&s, 3, 365, &d->day))
            return false;
    } else {
        return false;
    }
    d->time = 2 * 3600;
    if (*s == '/') {
        s++;
        if (!parse_hms(&s, TZ_RULE_HOURS_MAX, &d->time))
            return false;
    }
    *p = s;
    return true;
}

/* Parses a whole TZ string: std offset [dst [offset] [,start[/time],end[/time]]]. */
static bool parse_posix_tz(const char *s, tz_rule *r)
{
    memset(r, 0, sizeof *r);
    if (!parse_abbr(&s) || !parse_posix_offset(&s, &r->std.utoff))
        return false;
    r->std.isdst = false;
    if (*s == '\0')
        return true;
    if (!parse_abbr(&s))
        return false;
    r->has_dst = true;
    r->dst.isdst = true;
    r->dst.utoff = r->std.utoff + 3600;
    if (*s != ',' && *s != '\0' && !parse_posix_offset(&s, &r->dst.utoff))
        return false;
    if (*s == '\0') {
        /* No rule: the US rules, as tzcode and glibc assume. */
        static const tz_rule_date us_start = {TZ_RULE_MWD, 0, 3, 2, 0, 2 * 3600};
        static const tz_rule_date us_end = {TZ_RULE_MWD, 0, 11, 1, 0, 2 * 3600};
        r->start = us_start;
        r->end = us_end;
        return true;
    }
    if (*s++ != ',' || !parse_rule_date(&s, &r->start) || *s++ != ',' ||
        !parse_rule_date(&s, &r->end))
        return false;
    return *s == '\0';
}

/* ---- TZif ---- */

typedef struct tzif_header {
    char version; /* '\0', '2', '3', ... */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static uint32_t read_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t read_be64(const unsigned char *p)
{
    uint64_t v = (uint64_t)read_be32(p) << 32 | read_be32(p + 4);
    return (int64_t)v;
}

static bool parse_header(const unsigned char *data, size_t len, size_t pos, tzif_header *h)
{
    if (len < TZ_HEADER_LEN || pos > len - TZ_HEADER_LEN || memcmp(data + pos, "TZif", 4) != 0)
        return false;
    const unsigned char *p = data + pos;
    h->version = (char)p[4];
    h->isutcnt = read_be32(p + 20);
    h->isstdcnt = read_be32(p + 24);
    h->leapcnt = read_be32(p + 28);
    h->timecnt = read_be32(p + 32);
    h->typecnt = read_be32(p + 36);
    h->charcnt = read_be32(p + 40);
    return true;
}

static uint64_t data_block_len(const tzif_header *h, unsigned time_size)
{
    return (uint64_t)h->timecnt * time_size + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

static void zone_free(pms_tz *tz)
{
    if (tz == NULL)
        return;
    free(tz->name);
    free(tz->at);
    free(tz->after);
    free(tz);
}

/* Fills the transitions and types of tz from the data block at pos. */
static int parse_data_block(pms_tz *tz, const unsigned char *data, const tzif_header *h, size_t pos,
                            unsigned time_size, pms_error *err)
{
    const char *name = tz->name;
    if (h->typecnt == 0 || h->charcnt == 0)
        return pms_error_set(err, PMS_ERR_PARSE,
                             "time zone '%s': TZif file has no local time types", name);
    if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': inconsistent TZif counts", name);
    if (h->leapcnt != 0)
        return pms_error_set(
            err, PMS_ERR_NOT_SUPPORTED,
            "time zone '%s' counts leap seconds (\"right/\" zones are not supported)", name);

    const unsigned char *times = data + pos;
    const unsigned char *indices = times + (size_t)h->timecnt * time_size;
    const unsigned char *ttinfos = indices + h->timecnt;

    tz_type types[256];
    if (h->typecnt > 256)
        return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': too many local time types", name);
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const unsigned char *ti = ttinfos + (size_t)i * 6;
        int32_t utoff = (int32_t)read_be32(ti);
        if (utoff < TZ_UTOFF_MIN || utoff > TZ_UTOFF_MAX || ti[4] > 1 || ti[5] >= h->charcnt)
            return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': invalid local time type",
                                 name);
        types[i].utoff = utoff;
        types[i].isdst = ti[4] == 1;
    }
    tz->initial = types[0];

    tz->count = h->timecnt;
    if (h->timecnt == 0)
        return PMS_OK;
    tz->at = malloc((size_t)h->timecnt * sizeof *tz->at);
    tz->after = malloc((size_t)h->timecnt * sizeof *tz->after);
    if (tz->at == NULL || tz->after == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory loading time zone '%s'", name);
    for (uint32_t i = 0; i < h->timecnt; i++) {
        const unsigned char *t = times + (size_t)i * time_size;
        tz->at[i] = time_size == 8 ? read_be64(t) : (int64_t)(int32_t)read_be32(t);
        if (i > 0 && tz->at[i] <= tz->at[i - 1])
            return pms_error_set(err, PMS_ERR_PARSE,
                                 "time zone '%s': transitions are not in ascending order", name);
        if (indices[i] >= h->typecnt)
            return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': invalid type index", name);
        tz->after[i] = types[indices[i]];
    }
    return PMS_OK;
}

/* Builds a zone from the bytes of a TZif file. */
static int parse_tzif(pms_tz *tz, const unsigned char *data, size_t len, pms_error *err)
{
    const char *name = tz->name;
    tzif_header h1, h2;
    if (!parse_header(data, len, 0, &h1))
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "unknown time zone '%s' (not a TZif file)",
                             name);
    uint64_t v1_len = data_block_len(&h1, 4);
    if (v1_len > len - TZ_HEADER_LEN)
        return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': TZif file is truncated", name);
    if (h1.version == '\0') {
        /* Version 1: 32-bit data, no footer. The last type holds after the last transition. */
        return parse_data_block(tz, data, &h1, TZ_HEADER_LEN, 4, err);
    }
    if (h1.version < '2')
        return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': unknown TZif version", name);

    size_t pos = TZ_HEADER_LEN + (size_t)v1_len;
    if (!parse_header(data, len, pos, &h2) || h2.version < '2')
        return pms_error_set(err, PMS_ERR_PARSE,
                             "time zone '%s': TZif file has no version 2 data block", name);
    pos += TZ_HEADER_LEN;
    uint64_t v2_len = data_block_len(&h2, 8);
    if (v2_len > len - pos)
        return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': TZif file is truncated", name);
    int rc = parse_data_block(tz, data, &h2, pos, 8, err);
    if (rc != PMS_OK)
        return rc;
    pos += (size_t)v2_len;

    /* Footer: "\n" TZ-string "\n". */
    if (pos >= len || data[pos] != '\n')
        return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': TZif footer is missing", name);
    pos++;
    const unsigned char *nl = memchr(data + pos, '\n', len - pos);
    if (nl == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': TZif footer is unterminated",
                             name);
    size_t footer_len = (size_t)(nl - (data + pos));
    if (footer_len == 0)
        return PMS_OK; /* no rule: the last type holds */
    char footer[256];
    if (footer_len >= sizeof footer || memchr(data + pos, '\0', footer_len) != NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': invalid TZif footer", name);
    memcpy(footer, data + pos, footer_len);
    footer[footer_len] = '\0';
    if (!parse_posix_tz(footer, &tz->rule))
        return pms_error_set(err, PMS_ERR_PARSE, "time zone '%s': invalid TZ rule \"%s\"", name,
                             footer);
    tz->has_rule = true;

    /* RFC 8536 3.3: the rule must agree with the type of the last transition. */
    if (tz->count > 0) {
        int64_t last = tz->at[tz->count - 1];
        if (last > -TZ_CHECK_LIMIT && last < TZ_CHECK_LIMIT &&
            rule_type_at(&tz->rule, last).utoff != tz->after[tz->count - 1].utoff)
            return pms_error_set(
                err, PMS_ERR_PARSE,
                "time zone '%s': TZ rule \"%s\" disagrees with the last transition", name, footer);
    }
    return PMS_OK;
}

/* Reads a whole regular file; *out is malloc'ed and freed by the caller. */
static int read_zone_file(const char *path, const char *name, unsigned char **out, size_t *out_len,
                          pms_error *err)
{
    int rc = PMS_OK;
    unsigned char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return pms_error_set(err, PMS_ERR_NOT_FOUND, "unknown time zone '%s' (no %s)", name,
                                 path);
        char reason[128];
        return pms_error_set(err, PMS_ERR_IO, "cannot open time zone file %s: %s", path,
                             strerror_r(errno, reason, sizeof reason));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "unknown time zone '%s' (%s is not a file)",
                           name, path);
        goto out;
    }
    if (st.st_size > TZ_FILE_MAX) {
        rc = pms_error_set(err, PMS_ERR_PARSE, "time zone file %s is too large", path);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (buf == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = pms_error_set(err, PMS_ERR_IO, "cannot read time zone file %s", path);
            goto out;
        }
        got += (size_t)n;
    }
    *out = buf;
    *out_len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

static bool is_utc_name(const char *name)
{
    return strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0;
}

/* Loads a zone from disk (registry_lock held). *out is owned by the registry once listed. */
static int load_zone(const char *name, pms_tz **out, pms_error *err)
{
    int rc;
    unsigned char *data = NULL;
    size_t len = 0;
    pms_tz *tz = calloc(1, sizeof *tz);
    if (tz == NULL || (tz->name = strdup(name)) == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory loading time zone '%s'", name);
        goto out;
    }

    const char *dir = registry_dir;
    if (registry_dir_too_long) {
        rc = pms_error_set(err, PMS_ERR_CONFIG, "time zone directory path is too long");
        goto out;
    }
    if (dir[0] == '\0') {
        const char *env = getenv("PMSYNC_ZONEINFO");
        dir = env != NULL && env[0] != '\0' ? env : TZ_DEFAULT_DIR;
    }
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        rc = pms_error_set(err, PMS_ERR_CONFIG, "time zone path for '%s' is too long", name);
        goto out;
    }

    rc = read_zone_file(path, name, &data, &len, err);
    if (rc == PMS_ERR_NOT_FOUND && is_utc_name(name)) {
        /* UTC works without zone files (minimal containers). */
        pms_error_clear(err);
        rc = PMS_OK;
        goto out;
    }
    if (rc != PMS_OK)
        goto out;
    rc = parse_tzif(tz, data, len, err);
out:
    free(data);
    if (rc != PMS_OK) {
        zone_free(tz);
        tz = NULL;
    }
    *out = tz;
    return rc;
}

int pms_tz_parse(const char *name, const unsigned char *data, size_t len, pms_tz **out,
                 pms_error *err)
{
    *out = NULL;
    pms_tz *tz = calloc(1, sizeof *tz);
    if (tz == NULL || (tz->name = strdup(name ? name : "")) == NULL) {
        zone_free(tz);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory loading a time zone");
    }
    int rc = parse_tzif(tz, data, len, err);
    if (rc != PMS_OK) {
        zone_free(tz);
        return rc;
    }
    *out = tz;
    return PMS_OK;
}

void pms_tz_free(pms_tz *tz)
{
    zone_free(tz);
}

/* ---- the registry ---- */

bool pms_tz_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0' || name[0] == '/')
        return false;
    size_t component_len = 0, len = 0;
    for (const char *p = name; *p != '\0'; p++) {
        if (++len > TZ_NAME_MAX)
            return false;
        char c = *p;
        if (c == '/') {
            if (component_len == 0)
                return false; /* "a//b" */
            component_len = 0;
            continue;
        }
        /* No '.', so no "." or ".." component can walk out of the zone directory. */
        if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '_' && c != '-' && c != '+')
            return false;
        component_len++;
    }
    return component_len > 0; /* no trailing '/' */
}

int pms_tz_get(const char *name, const pms_tz **out, pms_error *err)
{
    if (out == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "pms_tz_get needs an out pointer");
    *out = NULL;
    if (!pms_tz_name_valid(name))
        return pms_error_set(err, PMS_ERR_INVALID,
                             "invalid time zone name (expected an IANA name like "
                             "\"Australia/Melbourne\")");
    int rc = PMS_OK;
    pthread_mutex_lock(&registry_lock);
    pms_tz *tz = registry_head;
    while (tz != NULL && strcmp(tz->name, name) != 0)
        tz = tz->next;
    if (tz == NULL) {
        /* Loading under the lock keeps one table per zone; zones load at start-up, rarely. */
        rc = load_zone(name, &tz, err);
        if (rc == PMS_OK) {
            tz->next = registry_head;
            registry_head = tz;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    if (rc == PMS_OK)
        *out = tz;
    return rc;
}

const char *pms_tz_name(const pms_tz *tz)
{
    return tz->name;
}

void pms_tz_set_dir(const char *dir)
{
    pthread_mutex_lock(&registry_lock);
    registry_dir[0] = '\0';
    registry_dir_too_long = false;
    if (dir != NULL) {
        size_t len = strlen(dir);
        if (len >= sizeof registry_dir)
            registry_dir_too_long = true;
        else
            memcpy(registry_dir, dir, len + 1);
    }
    pthread_mutex_unlock(&registry_lock);
}

void pms_tz_cleanup(void)
{
    pthread_mutex_lock(&registry_lock);
    pms_tz *tz = registry_head;
    registry_head = NULL;
    pthread_mutex_unlock(&registry_lock);
    while (tz != NULL) {
        pms_tz *next = tz->next;
        zone_free(tz);
        tz = next;
    }
}

/* ---- conversions (lock-free, no allocation) ---- */

/* The number of transitions at or before secs. */
static size_t transitions_through(const pms_tz *tz, int64_t secs)
{
    size_t lo = 0, hi = tz->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= secs)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static tz_type type_at(const pms_tz *tz, int64_t secs)
{
    size_t i = transitions_through(tz, secs);
    if (i == tz->count && tz->has_rule && (i == 0 || secs > tz->at[i - 1]))
        return rule_type_at(&tz->rule, secs);
    return i == 0 ? tz->initial : tz->after[i - 1];
}

/* The first transition strictly after secs and the offsets either side of it. */
static bool next_transition(const pms_tz *tz, int64_t secs, int64_t *at, int32_t *before,
                            int32_t *after)
{
    size_t i = transitions_through(tz, secs);
    if (i < tz->count) {
        *at = tz->at[i];
        *before = (i == 0 ? tz->initial : tz->after[i - 1]).utoff;
        *after = tz->after[i].utoff;
        return true;
    }
    if (!tz->has_rule || !rule_next_transition(&tz->rule, secs, at))
        return false;
    *before = rule_type_at(&tz->rule, *at - 1).utoff;
    *after = rule_type_at(&tz->rule, *at).utoff;
    return true;
}

int pms_tz_offset_at(const pms_tz *tz, pms_instant t, bool *is_dst)
{
    tz_type type = type_at(tz, floor_div(t, MS_PER_SECOND));
    if (is_dst != NULL)
        *is_dst = type.isdst;
    return type.utoff;
}

void pms_tz_to_local(const pms_tz *tz, pms_instant t, pms_civil *out)
{
    int offset = pms_tz_offset_at(tz, t, NULL);
    pms_civil_from_utc_instant(saturating_add(t, (int64_t)offset * MS_PER_SECOND), out);
}

/* The instant of a wall time (milliseconds read as if UTC), by the policy in tz.h. For a gap,
 * *gap_at is the transition instant (the first valid time after the gap). */
static pms_instant resolve_local(const pms_tz *tz, pms_instant wall, pms_tz_local_kind *kind,
                                 pms_instant *gap_at)
{
    if (wall > TZ_WALL_LIMIT || wall < -TZ_WALL_LIMIT) {
        *kind = PMS_TZ_LOCAL_UNIQUE;
        *gap_at = saturating_add(wall, -(int64_t)type_at(tz, floor_div(wall, MS_PER_SECOND)).utoff *
                                           MS_PER_SECOND);
        return *gap_at;
    }
    int64_t wall_secs = floor_div(wall, MS_PER_SECOND);
    int64_t lo = wall_secs - TZ_WINDOW_SECONDS, hi = wall_secs + TZ_WINDOW_SECONDS;

    /* Every offset in force within the window: a valid instant for this wall time uses one. */
    int32_t offsets[TZ_MAX_CANDIDATES];
    size_t n_offsets = 0;
    offsets[n_offsets++] = type_at(tz, lo).utoff;
    int64_t cursor = lo, at;
    int32_t before, after;
    for (int scanned = 0; scanned < TZ_MAX_SCAN && n_offsets < TZ_MAX_CANDIDATES &&
                          next_transition(tz, cursor, &at, &before, &after) && at <= hi;
         scanned++) {
        bool seen = false;
        for (size_t k = 0; k < n_offsets; k++)
            seen = seen || offsets[k] == after;
        if (!seen)
            offsets[n_offsets++] = after;
        cursor = at;
    }

    int valid = 0;
    pms_instant earliest = 0;
    for (size_t k = 0; k < n_offsets; k++) {
        pms_instant t = saturating_add(wall, -(int64_t)offsets[k] * MS_PER_SECOND);
        if (type_at(tz, floor_div(t, MS_PER_SECOND)).utoff != offsets[k])
            continue;
        if (valid == 0 || t < earliest)
            earliest = t;
        valid++;
    }
    if (valid > 0) {
        *kind = valid > 1 ? PMS_TZ_LOCAL_OVERLAP : PMS_TZ_LOCAL_UNIQUE;
        return earliest;
    }

    /* A gap: find the forward transition that skipped the wall time and read it with the
     * offset before, which lands after the gap by the gap's length. */
    *kind = PMS_TZ_LOCAL_GAP;
    cursor = lo;
    for (int scanned = 0;
         scanned < TZ_MAX_SCAN && next_transition(tz, cursor, &at, &before, &after) && at <= hi;
         scanned++) {
        int64_t gap_start = (at + before) * MS_PER_SECOND, gap_end = (at + after) * MS_PER_SECOND;
        if (after > before && wall >= gap_start && wall < gap_end) {
            *gap_at = at * MS_PER_SECOND;
            return wall - (int64_t)before * MS_PER_SECOND;
        }
        cursor = at;
    }
    /* Not reached with consistent data; read with the earliest offset in the window. */
    pms_instant t = saturating_add(wall, -(int64_t)offsets[0] * MS_PER_SECOND);
    *gap_at = t;
    return t;
}

pms_instant pms_tz_from_local(const pms_tz *tz, const pms_civil *local, pms_tz_local_kind *kind)
{
    pms_tz_local_kind found;
    pms_instant gap_at;
    pms_instant t = resolve_local(tz, pms_civil_to_utc_instant(local), &found, &gap_at);
    if (kind != NULL)
        *kind = found;
    return t;
}

pms_instant pms_tz_day_start(const pms_tz *tz, pms_date day)
{
    pms_tz_local_kind found;
    pms_instant gap_at;
    pms_instant midnight;
    if (__builtin_mul_overflow(pms_days_from_date(day), SECONDS_PER_DAY * MS_PER_SECOND, &midnight))
        midnight = pms_days_from_date(day) > 0 ? INT64_MAX : INT64_MIN;
    pms_instant t = resolve_local(tz, midnight, &found, &gap_at);
    /* Midnight skipped: the day starts at the transition, the first instant of that date. */
    return found == PMS_TZ_LOCAL_GAP ? gap_at : t;
}

pms_date pms_tz_date_of(const pms_tz *tz, pms_instant t)
{
    pms_civil c;
    pms_tz_to_local(tz, t, &c);
    pms_date d = {c.year, c.month, c.day};
    return d;
}
