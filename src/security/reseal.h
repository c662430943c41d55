/* Re-sealing one record's sealed values under the key ring's primary key: shared by the
 * rotation of connection secrets (rotation.c) and of voice credentials (rotation_voice.c).
 * Internal to the library. */
#ifndef PMSYNC_RESEAL_H
#define PMSYNC_RESEAL_H

#include "pmsync/rotation.h"

/* One sealed value of a record: where it is, the aad it is bound to, its name in reports. */
typedef struct pms_sealed_value {
    char **value; /* NULL inside: not set */
    const char *aad;
    const char *name; /* "secrets", "bearer" ... */
} pms_sealed_value;

/* Whether an envelope names key_id. */
bool pms_sealed_under(const char *envelope, const char *key_id);
/* Moves each set value not under primary to it (replacing *value), counting in *r; a value that
 * cannot be opened is left as is and counted failed ("<kind> <id> <name>: why"). true when any
 * changed. */
bool pms_reseal_values(const pms_keyring *ring, const char *primary, const pms_sealed_value *v,
                       int count, const char *kind, const char *id, pms_reencrypt_report *r);

#endif
