#include "pmsync/phone.h"

#include <stdlib.h>
#include <string.h>

/* More digits than any E.164 number plus an international access code. */
#define MAX_DIGITS 20

/* What the text looked like once punctuation is gone. */
typedef struct dialled {
    char digits[MAX_DIGITS + 1];
    size_t len;
    bool plus;      /* written with a leading '+' */
    int paren_zero; /* index in digits of the 0 written as "(0)", or -1 */
} dialled;

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Keeps the digits of raw. Separators are blanks, U+00A0, '.', '-', '/', brackets; one '+' may
 * come before the first digit; where a "(0)" follows the first digit is noted (a trunk prefix
 * after a country code). Anything else (letters of "x123" or "ext.", '#', ',', ';') makes the text
 * unreadable, so an extension is never silently cut off. */
static bool read_digits(const char *raw, dialled *d)
{
    memset(d, 0, sizeof *d);
    d->paren_zero = -1;
    const unsigned char *s = (const unsigned char *)raw;
    for (size_t i = 0; s[i] != '\0'; i++) {
        unsigned char c = s[i];
        if (is_digit((char)c)) {
            if (d->len == MAX_DIGITS)
                return false;
            d->digits[d->len++] = (char)c;
        } else if (c == '+') {
            if (d->plus || d->len > 0)
                return false;
            d->plus = true;
        } else if (c == '(' && d->len > 0 && d->paren_zero < 0 && s[i + 1] == '0' &&
                   s[i + 2] == ')') {
            if (d->len == MAX_DIGITS)
                return false;
            d->paren_zero = (int)d->len;
            d->digits[d->len++] = '0';
            i += 2;
        } else if (c == 0xC2 && s[i + 1] == 0xA0) {
            i++;
        } else if (!(is_blank(c) || c == '.' || c == '-' || c == '/' || c == '(' || c == ')')) {
            return false;
        }
    }
    d->digits[d->len] = '\0';
    return d->len > 0;
}

/* Australian national significant number, without the trunk 0: mobiles 4xxxxxxxx, geographic
 * 2/3/7/8xxxxxxxx, and (only when no trunk 0 was written) 13xxxx, 1300xxxxxx, 1800xxxxxx. */
static bool au_nsn_valid(const char *nsn, size_t len, bool had_trunk_zero)
{
    if (len == 9) {
        char first = nsn[0];
        return first == '4' || first == '2' || first == '3' || first == '7' || first == '8';
    }
    if (had_trunk_zero)
        return false;
    if (len == 6)
        return nsn[0] == '1' && nsn[1] == '3';
    if (len == 10)
        return strncmp(nsn, "1300", 4) == 0 || strncmp(nsn, "1800", 4) == 0;
    return false;
}

/* Digits after "61" (international form): an optional trunk 0, then the national number. */
static bool au_after_country_code(const char *rest, size_t len, char out[PMS_PHONE_E164_LEN])
{
    bool trunk = len > 0 && rest[0] == '0';
    if (trunk) {
        rest++;
        len--;
    }
    if (!au_nsn_valid(rest, len, trunk))
        return false;
    memcpy(out, "+61", 3);
    memcpy(out + 3, rest, len);
    out[3 + len] = '\0';
    return true;
}

/* NANP: NXX area code and NXX exchange (N = 2..9), neither a N11 service code. */
static bool nanp_valid(const char *ten, size_t len)
{
    if (len != 10)
        return false;
    if (ten[0] < '2' || ten[3] < '2')
        return false;
    if (ten[1] == '1' && ten[2] == '1')
        return false;
    if (ten[4] == '1' && ten[5] == '1')
        return false;
    return true;
}

static bool us_national(const char *ten, size_t len, char out[PMS_PHONE_E164_LEN])
{
    if (!nanp_valid(ten, len))
        return false;
    memcpy(out, "+1", 2);
    memcpy(out + 2, ten, 10);
    out[12] = '\0';
    return true;
}

/* Digits after '+' (or an international access code); paren_zero is the index of a "(0)"
 * trunk prefix in digits, or -1. */
static bool international(const char *digits, size_t len, int paren_zero,
                          char out[PMS_PHONE_E164_LEN])
{
    if (len >= 2 && digits[0] == '6' && digits[1] == '1')
        return au_after_country_code(digits + 2, len - 2, out);
    if (len >= 1 && digits[0] == '1')
        return us_national(digits + 1, len - 1, out);
    char kept[MAX_DIGITS + 1];
    size_t kept_len = 0;
    for (size_t i = 0; i < len; i++)
        if ((int)i != paren_zero)
            kept[kept_len++] = digits[i];
    if (kept_len < 8 || kept_len > 15 || kept[0] == '0')
        return false;
    out[0] = '+';
    memcpy(out + 1, kept, kept_len);
    out[1 + kept_len] = '\0';
    return true;
}

static bool au_national(const dialled *d, char out[PMS_PHONE_E164_LEN])
{
    const char *s = d->digits;
    if (strncmp(s, "0011", 4) == 0)
        return d->len > 4 && international(s + 4, d->len - 4, d->paren_zero - 4, out);
    if (s[0] == '0') {
        if (!au_nsn_valid(s + 1, d->len - 1, true))
            return false;
        memcpy(out, "+61", 3);
        memcpy(out + 3, s + 1, d->len - 1);
        out[3 + d->len - 1] = '\0';
        return true;
    }
    if (s[0] == '6' && s[1] == '1')
        return au_after_country_code(s + 2, d->len - 2, out);
    if (s[0] == '1') {
        /* 13, 1300 and 1800 numbers are dialled the same everywhere in Australia. */
        if (!au_nsn_valid(s, d->len, false))
            return false;
        memcpy(out, "+61", 3);
        memcpy(out + 3, s, d->len);
        out[3 + d->len] = '\0';
        return true;
    }
    /* 8-digit local numbers need an area code we would have to guess. */
    return false;
}

static bool us_domestic(const dialled *d, char out[PMS_PHONE_E164_LEN])
{
    const char *s = d->digits;
    if (strncmp(s, "011", 3) == 0)
        return d->len > 3 && international(s + 3, d->len - 3, d->paren_zero - 3, out);
    if (d->len == 11 && s[0] == '1')
        return us_national(s + 1, 10, out);
    return us_national(s, d->len, out);
}

bool pms_phone_to_e164(const char *raw, pms_phone_region region, char out[PMS_PHONE_E164_LEN])
{
    if (out == NULL)
        return false;
    out[0] = '\0';
    if (raw == NULL)
        return false;
    dialled d;
    if (!read_digits(raw, &d))
        return false;
    bool ok;
    if (d.plus)
        ok = international(d.digits, d.len, d.paren_zero, out);
    else if (region == PMS_PHONE_US)
        ok = us_domestic(&d, out);
    else
        ok = au_national(&d, out);
    if (!ok)
        out[0] = '\0';
    return ok;
}

char *pms_phone_normalize(const char *raw, pms_phone_region region)
{
    if (raw == NULL)
        return NULL;
    const char *start = raw;
    while (is_blank((unsigned char)*start))
        start++;
    size_t len = strlen(start);
    while (len > 0 && is_blank((unsigned char)start[len - 1]))
        len--;
    if (len == 0)
        return NULL;
    char e164[PMS_PHONE_E164_LEN];
    if (pms_phone_to_e164(start, region, e164))
        return strdup(e164);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, start, len);
    copy[len] = '\0';
    return copy;
}

/* NANP zones outside America/ and US/: Hawaii, Guam, the Northern Marianas, American Samoa. */
static const char *const nanp_pacific_zones[] = {
    "Pacific/Honolulu", "Pacific/Johnston",  "Pacific/Guam",
    "Pacific/Saipan",   "Pacific/Pago_Pago", "Pacific/Samoa",
};

pms_phone_region pms_phone_region_for_timezone(const char *tz_name)
{
    if (tz_name == NULL)
        return PMS_PHONE_AU;
    if (strncmp(tz_name, "America/", 8) == 0 || strncmp(tz_name, "US/", 3) == 0)
        return PMS_PHONE_US;
    for (size_t i = 0; i < sizeof nanp_pacific_zones / sizeof nanp_pacific_zones[0]; i++)
        if (strcmp(tz_name, nanp_pacific_zones[i]) == 0)
            return PMS_PHONE_US;
    return PMS_PHONE_AU;
}
