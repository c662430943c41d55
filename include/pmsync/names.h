/* Person names: parsing display names into parts and matching names that refer to the same
 * person ("Dr. John Smith" and "Dr Smith"), for practitioner mapping and OCR matching. */
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
 * PMS_ERR_NOMEM. */
int pms_person_name_parse(const char *display, pms_person_name *out);
void pms_person_name_free(pms_person_name *name);

/* "Dr John Smith" style display from parts (any may be NULL). Caller frees. */
char *pms_person_name_format(const char *prefix, const char *given, const char *family);

/* How likely two display names are the same person, 0.0 .. 1.0: family names must agree
 * (case, accents and punctuation aside); given names or initials that agree raise the score,
 * ones that conflict lower it below 0.5; titles are ignored. "Dr. John Smith" vs "Dr Smith"
 * scores well above 0.5, "John Smith" vs "Jane Smith" below it. */
double pms_name_similarity(const char *a, const char *b);

/* Lower-case ASCII key of a name for equality matching: letters and digits of given and
 * family names, titles dropped ("Dr. John Smith" -> "john smith"). Caller frees. */
char *pms_name_match_key(const char *display);

#endif
