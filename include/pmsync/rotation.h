/* Key rotation without downtime: moving every sealed value in the database to the key ring's
 * primary key, and finding what still needs an older key before it is retired.
 *
 * The sealed values are the three columns of pms_connections that hold envelopes: secrets,
 * access_token and refresh_token, each bound to its row and column by pms_connection_aad; and
 * the voice receptionist's credentials (voice_settings: bearer and HMAC secrets, pms_voice_aad). A
 * rotation (pmsctl key rotate) puts a new key first in the key file, keeping the old ones, then
 * calls pms_reencrypt_all: each connection is rewritten in its own short write transaction, so
 * a running pmsd is never blocked for long, and a value that changed meanwhile (a new token) is
 * read again inside the transaction before it is rewritten. Processes that loaded the ring before
 * the rotation reload it when they meet the new key id (crypto.h).
 *
 * Thread safety: one store handle per thread (store.h); the key ring may be shared.
 */
#ifndef PMSYNC_ROTATION_H
#define PMSYNC_ROTATION_H

#include "pmsync/crypto.h"
#include "pmsync/store.h"

typedef struct pms_reencrypt_report {
    long values;             /* sealed values seen */
    long reencrypted;        /* moved to the primary key */
    long current;            /* already under the primary key */
    long failed;             /* could not be opened (a key not in the ring, damage): left as is */
    char first_failure[192]; /* "connection <id> <column>: <why>"; no secret text */
} pms_reencrypt_report;

/* Re-encrypts every sealed value that is not under the ring's primary key. PMS_OK when every
 * connection was visited (check out->failed); a store error stops the run (what was done stays
 * done, and running it again finishes the job). */
int pms_reencrypt_all(pms_store *st, const pms_keyring *ring, pms_reencrypt_report *out,
                      pms_error *err);

/* What still needs a key. */
typedef struct pms_key_usage {
    long sealed_values;      /* envelopes in the database naming the key */
    long long audit_records; /* audit records chained with it */
    bool audit_head;         /* the audit log's head is signed with it */
} pms_key_usage;

int pms_key_usage_count(pms_store *st, const char *key_id, pms_key_usage *out, pms_error *err);

#define PMS_RETIRE_FORCE       1u /* drop the key although sealed values still need it */
#define PMS_RETIRE_FORCE_AUDIT 2u /* drop it although audit records were chained with it */

/* Removes an older key from the key file (pms_key_file_remove) once nothing needs it.
 * PMS_ERR_INVALID for the primary key, PMS_ERR_NOT_FOUND when the file does not hold it.
 * PMS_ERR_CONFLICT, with the counts in *usage (may be NULL), when sealed values still need it
 * (unless PMS_RETIRE_FORCE: they can then never be opened again), when audit records were
 * chained with it (unless PMS_RETIRE_FORCE_AUDIT: they can then never be verified again), or
 * when the audit head is signed with it (always: append an audit record first, which signs the
 * head with the primary key). */
int pms_key_retire(pms_store *st, const char *key_file, const char *key_id, unsigned flags,
                   pms_key_usage *usage, pms_error *err);

#endif
