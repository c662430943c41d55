/* Name lists for generated people: varied given and family names common in Australia. Immutable. */
#ifndef SBX_NAMES_DATA_H
#define SBX_NAMES_DATA_H

#include <stddef.h>

extern const char *const sbx_female_given_names[];
extern const size_t sbx_female_given_count;
extern const char *const sbx_male_given_names[];
extern const size_t sbx_male_given_count;
extern const char *const sbx_family_names[];
extern const size_t sbx_family_count;
extern const char *const sbx_street_names[];
extern const size_t sbx_street_count;

#endif
