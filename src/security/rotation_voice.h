/* Key rotation for the voice receptionist's sealed credentials (voice_settings: bearer and HMAC
 * secrets, aad "voice:<account id>:<bearer|hmac>"). Internal to the library: pms_reencrypt_all
 * and pms_key_usage_count (rotation.h) call them after the connections. */
#ifndef PMSYNC_ROTATION_VOICE_H
#define PMSYNC_ROTATION_VOICE_H

#include "pmsync/rotation.h"

/* Moves every voice secret not under primary to it, each account in its own write transaction
 * (read again inside it); failures are counted in *r, as for connections. */
int pms_reencrypt_voice(pms_store *st, const pms_keyring *ring, const char *primary,
                        pms_reencrypt_report *r, pms_error *err);
/* Adds the voice secrets sealed with key_id to *count. */
int pms_voice_key_usage(pms_store *st, const char *key_id, long *count, pms_error *err);

#endif
