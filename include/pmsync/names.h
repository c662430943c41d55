/* Person names: parsing display names into parts and matching names that refer to the same
 * person ("Dr. John Smith" and "Dr Smith"), for practitioner mapping and OCR matching.
 *
 * Text is UTF-8. Only ASCII is lower-cased; other bytes count as letters and multibyte characters
 * are never split. For comparison (match keys, similarity) Latin letters with diacritics fold to
 * ASCII ("Müller" -> "muller", "Nguyễn" -> "nguyen", "ß" -> "ss"), other scripts are compared as
 * written, and punctuation (. ' ’ - and so on) is dropped.
 *
 * Thread safety: every function is reentrant; the keyword tables are immutable.
 */
#ifndef PMSYNC_NAMES_H
#define PMSYNC_NAMES_H

#include <stdbool.h>

typedef struct pms_person_name {
    char *prefix; /* "Dr", "Prof", "Mrs" ... without the dot; NULL when absent */
    char *given;  /* first given name; NULL when absent */
    char *middle; /* further given names, space separated; NULL when absent */
    char *family; /* family name, may have particles ("van der Berg"); NULL when absent */
    char *suffix; /* "Jr", "III", "OAM" ...; NULL when absent */
} pms_person_name;

/* Parses "Dr. John Smith", "Smith, John", "Prof A. B. van der Berg Jr", "SMITH John" (a family
 * name in capitals first is how some PMSs print it). Every part is a new string owned by *out;
 * free with pms_person_name_free. Returns 0, or PMS_ERR_INVALID for a blank name,
 * PMS_ERR_NOMEM.
 *
 * Rules, in order:
 * - Words are split at blanks (U+00A0 too); extra blanks vanish; "O' Brien" joins to "O'Brien";
 *   words without a letter or digit ("&", "-") are dropped. Hyphenated names stay one word.
 * - Titles at the front become the prefix in a canonical form: Dr/Dr./Doctor -> "Dr",
 *   Prof/Professor -> "Prof", A/Prof/Assoc Prof/Associate Professor -> "A/Prof", Mr, Mrs, Ms,
 *   Miss, Mx, Master, Sr, Rev/Revd/Reverend -> "Rev", Sir, Dame; several join with a space. A
 *   title is kept as the name when nothing follows it ("Dr" alone is a family name).
 * - Suffixes at the end or after their own comma ("John Smith, MD") become the suffix, canonical
 *   and space separated in the order written: Jr/Jnr, Sr/Snr, II, III, IV, OAM, AM, AO, AC,
 *   PhD, MD, DDS, DMD, MBBS, BDS, FRACGP and other fellowships, RN, NP, PA, Esq .... Those that
 *   are also names (AM, AO, AC, MD, RN, NP, PA, DC, OD, BA) count only in capitals and with a
 *   given and family name left; DO and MA (common family names) only after a comma.
 * - "Family, Given Middle": everything before the first comma is the family name (titles may
 *   come after the comma: "Smith, Dr John").
 * - Otherwise: one word is a family name ("Smith"); a leading run of words in capitals followed
 *   by a word in lower case is the family name ("SMITH John", "VAN DER BERG Anna"); a name
 *   ending in initials only is family first ("Smith J A"); else given names come first and the
 *   family name is the last word, or starts at a particle after the given name (van, von, der,
 *   den, de, da, di, del, della, dos, das, du, la, le, ter, ten, bin, binti, al, el, st).
 * - Initials lose their dots and "A.B." gives two: "A. B. Jones" -> given "A", middle "B".
 * Parts keep the case they were written in. */
int pms_person_name_parse(const char *display, pms_person_name *out);
void pms_person_name_free(pms_person_name *name);

/* "Dr John Smith" style display from parts (any may be NULL or empty; "" when all are). Caller
 * frees; NULL only when out of memory. */
char *pms_person_name_format(const char *prefix, const char *given, const char *family);

/* How likely two display names are the same person, 0.0 .. 1.0: family names must agree
 * (case, accents and punctuation aside); given names or initials that agree raise the score,
 * ones that conflict lower it below 0.5; titles are ignored. "Dr. John Smith" vs "Dr Smith"
 * scores well above 0.5, "John Smith" vs "Jane Smith" below it.
 *
 * Scoring (deterministic and symmetric), score = family x given x generation:
 * - family: 1.0 when the folded family names are equal ("van der Berg" == "Vanderberg");
 *   0.9 when equal once leading particles are set aside ("van Beethoven", "Beethoven"); 0.85
 *   when both are at least 8 folded characters and one edit apart (insert, delete, substitute
 *   or swap two neighbours: "Vandenberg", "Vanderberg"); otherwise the score is 0.0, so
 *   "Smith" and "Smyth" never match.
 * - given: 1.0 when neither has a given name; 0.8 when only one has ("Dr Smith"); otherwise the
 *   first given names: equal 1.0, an initial of the other 0.9 ("J", "John"), one the start of
 *   the other with at least 3 characters 0.7 ("Chris", "Christopher"), anything else 0.2
 *   ("John", "Jane"). Then, when both have a middle name and the first ones conflict, x 0.4;
 *   when only one side has middle names, x 0.95.
 * - generation: x 0.4 when both have a generational suffix and they differ (Jr and Sr).
 * Unparseable (NULL, blank) names score 0.0. */
double pms_name_similarity(const char *a, const char *b);

/* Lower-case ASCII key of a name for equality matching: letters and digits of given and
 * family names, titles dropped ("Dr. John Smith" -> "john smith"). Given and middle names are
 * words of their own, the family name one word ("Anna van der Berg" -> "anna vanderberg");
 * suffixes are dropped; non-Latin characters stay as written. Caller frees; NULL for a NULL or
 * blank name or when out of memory. */
char *pms_name_match_key(const char *display);

#endif
