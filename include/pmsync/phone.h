/* Phone numbers to E.164 for Australia and the United States.
 *
 * Accepts the ways people write numbers in a PMS: "0412 345 678", "(03) 9123 4567",
 * "+61 412 345 678", "61412345678", "1300 123 456", "(212) 555-0123", "212-555-0123",
 * "+1 212 555 0123", "1-212-555-0123", with spaces, dots, dashes and brackets.
 * A number that cannot be read with confidence is not guessed at: the caller keeps the original.
 *
 * What is read:
 * - Australia (region AU, or an explicit +61 / 61 / 0011 61): mobiles 04xx xxx xxx and
 *   geographic numbers with area code 02/03/07/08 (ten digits with the trunk 0), which may be
 *   written after 61 with or without the trunk 0 ("+61 (0)412 345 678"); 13 xx xx, 1300 and 1800
 *   numbers become +6113..., +611300..., +611800.... Eight-digit local numbers without an area
 *   code are not guessed.
 * - United States (region US, or an explicit +1 / 1 / 011 1): NANP numbers, ten digits whose area
 *   code and exchange both start with 2-9 and are not N11 service codes (911, 411).
 * - Any other explicit "+<country code>..." is kept as '+' and its digits when it has 8 to 15
 *   digits and does not start with 0; its national rules are not checked. "(0)" after the
 *   country code is dropped as a trunk prefix.
 * - Separators: spaces (also U+00A0), dots, dashes, slashes and brackets. Anything else - letters,
 *   an extension ("x123", "ext. 12"), '#', ',' - makes the text unreadable (false), so digits are
 *   never dropped silently. Too few or too many digits and empty text are false too.
 *
 * Thread safety: every function is pure and safe to call from any thread.
 */
#ifndef PMSYNC_PHONE_H
#define PMSYNC_PHONE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum pms_phone_region {
    PMS_PHONE_AU = 0,
    PMS_PHONE_US,
} pms_phone_region;

/* Room for any E.164 number with NUL. */
#define PMS_PHONE_E164_LEN 17

/* Writes the E.164 form ("+61412345678") into out and returns true; returns false and leaves
 * out empty when raw is not a valid number for the region (or an explicit +61/+1 number). */
bool pms_phone_to_e164(const char *raw, pms_phone_region region, char out[PMS_PHONE_E164_LEN]);

/* Normalised when possible, otherwise the original text trimmed of surrounding space.
 * Returns a new string the caller frees, or NULL when raw is NULL/blank or out of memory. */
char *pms_phone_normalize(const char *raw, pms_phone_region region);

/* Region implied by a practice's IANA zone: America/... and US/... give US, as do the NANP zones
 * of the Pacific (Pacific/Honolulu, Johnston, Guam, Saipan, Pago_Pago, Samoa); anything else,
 * NULL included, gives AU. */
pms_phone_region pms_phone_region_for_timezone(const char *tz_name);

#endif
