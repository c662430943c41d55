/* Phone numbers to E.164 for Australia and the United States.
 *
 * Accepts the ways people write numbers in a PMS: "0412 345 678", "(03) 9123 4567",
 * "+61 412 345 678", "61412345678", "1300 123 456", "(212) 555-0123", "212-555-0123",
 * "+1 212 555 0123", "1-212-555-0123", with spaces, dots, dashes and brackets.
 * A number that cannot be read with confidence is not guessed at: the caller keeps the original.
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

/* Region implied by a practice's IANA zone: America/... and US/... give US, otherwise AU. */
pms_phone_region pms_phone_region_for_timezone(const char *tz_name);

#endif
