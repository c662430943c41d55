/* Secrets at rest: AES-256-GCM with a key ring, random ids.
 *
 * A sealed value is a text envelope "pmsenc:v1:<key id>:<base64(nonce[12] | ciphertext | tag[16])>".
 * The key id (first 8 bytes of SHA-256 over the key, hex) lets several keys coexist during a
 * rotation. Associated data binds a value to where it is stored (for example
 * "pms_connections/<id>/secrets"), so a value copied to another row does not decrypt.
 *
 * Key sources, in order: PMSYNC_SECRET_KEY (64 hex digits or base64 of 32 bytes), then a key file
 * (the same text on one line; further lines hold older keys still accepted for decryption).
 * A created key file gets mode 0600.
 */
#ifndef PMSYNC_CRYPTO_H
#define PMSYNC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "pmsync/error.h"

#define PMS_KEY_BYTES 32
#define PMS_KEY_ID_LEN 17 /* 16 hex digits + NUL */
#define PMS_UUID_LEN 37   /* 36 characters + NUL */

typedef struct pms_keyring pms_keyring;

/* Loads the key ring: from env_value when not NULL/empty, otherwise from key_file. When
 * create_if_missing and the file does not exist, a new random key is written to it (0600).
 * The first key is the primary (used to seal); the others only open. */
int pms_keyring_load(const char *env_value, const char *key_file, bool create_if_missing,
                     pms_keyring **out, pms_error *err);
/* A key ring of one raw key (tests, tools). */
int pms_keyring_from_raw(const unsigned char key[PMS_KEY_BYTES], pms_keyring **out,
                         pms_error *err);
/* Adds an older key accepted for opening. */
int pms_keyring_add_raw(pms_keyring *ring, const unsigned char key[PMS_KEY_BYTES],
                        pms_error *err);
const char *pms_keyring_primary_id(const pms_keyring *ring);
void pms_keyring_free(pms_keyring *ring);

/* Writes a new random key file (0600, refuses to overwrite). */
int pms_key_file_generate(const char *path, pms_error *err);

/* Seals plaintext under the primary key with the given associated data. *out is a new
 * NUL-terminated envelope the caller frees. */
int pms_seal(const pms_keyring *ring, const char *aad, const void *plaintext, size_t len,
             char **out, pms_error *err);
/* Opens an envelope; *out is a new buffer (NUL-terminated for convenience, *out_len excludes
 * the NUL) that the caller clears with pms_secure_free. A wrong key, a changed byte or a wrong
 * aad all give PMS_ERR_CRYPTO. */
int pms_open(const pms_keyring *ring, const char *aad, const char *envelope, char **out,
             size_t *out_len, pms_error *err);
/* The key id inside an envelope (for rotation), or PMS_ERR_PARSE. */
int pms_envelope_key_id(const char *envelope, char out[PMS_KEY_ID_LEN], pms_error *err);
bool pms_is_envelope(const char *text);

/* Zeroes and frees a secret buffer of len bytes (len may be strlen). */
void pms_secure_free(void *p, size_t len);

int pms_random_bytes(void *buf, size_t len, pms_error *err);
/* Random UUID version 4, lower case. */
int pms_uuid_v4(char out[PMS_UUID_LEN], pms_error *err);
/* Hex SHA-256 of data (65 bytes with NUL). */
void pms_sha256_hex(const void *data, size_t len, char out[65]);

#endif
