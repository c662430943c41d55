/* Secrets at rest: AES-256-GCM with a key ring, random ids.
 *
 * A sealed value is a text envelope
 *     "pmsenc:v1:<key id>:<base64(nonce[12] | ciphertext | tag[16])>".
 * The key id (first 8 bytes of SHA-256 over the key, 16 lower-case hex digits) lets several keys
 * coexist during a rotation. Associated data binds a value to where it is stored (for example
 * "pms_connections/<id>/secrets"), so a value copied to another row does not decrypt.
 *
 * Key sources, in order: PMSYNC_SECRET_KEY (64 hex digits or base64 of 32 bytes; several keys
 * separated by commas, the first the primary), then a key file (the same text on one line;
 * further lines hold older keys still accepted for decryption). A created key file gets mode 0600.
 *
 * Key files: the first key line is the primary, further key lines are older keys; blank lines
 * and '#' comments (whole lines or after a key) are skipped; at most 64 KiB. Like ssh with a
 * private key, a key file that group or others may read, write or execute (any of mode 077) is
 * refused with PMS_ERR_CONFIG; so is anything but a regular file. New key files are created with
 * O_CREAT|O_EXCL and mode 0600, written, fsync'ed (and their directory too, best effort), and
 * never overwrite an existing file. Error messages name the file and line but never contain key
 * text.
 *
 * AES-256-GCM: a random 12-byte nonce per seal (RAND_bytes), a 16-byte tag, the aad string
 * (NULL counts as "") as associated data. The base64 is standard with padding and decoded
 * strictly, so any changed character of an envelope makes it fail to open.
 *
 * Rotation without downtime: a ring loaded from a key file remembers the file. When the file is
 * replaced (pmsctl key rotate writes a new primary first, the old keys after it), pms_seal
 * notices (one stat per seal) and reloads before sealing, and pms_open reloads once when an
 * envelope names a key id the ring does not know, then retries. pms_keyring_reload re-reads the
 * file on request (SIGHUP). A ring from PMSYNC_SECRET_KEY or raw keys has nothing to re-read.
 *
 * Thread safety: the EVP cipher and digest are fetched once (pthread_once) on first use. A key
 * ring takes a read-write lock internally: any number of threads may seal, open, derive and read
 * ids at once while another reloads it or adds a key; callers keep using it through a
 * `const pms_keyring *`. pms_keyring_free needs it to be unused by other threads.
 */
#ifndef PMSYNC_CRYPTO_H
#define PMSYNC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "pmsync/error.h"

#define PMS_KEY_BYTES  32
#define PMS_KEY_ID_LEN 17 /* 16 hex digits + NUL */
#define PMS_UUID_LEN   37 /* 36 characters + NUL */
#define PMS_HMAC_BYTES 32 /* HMAC-SHA256 */

typedef struct pms_keyring pms_keyring;

/* Loads the key ring: from env_value when not NULL/empty, otherwise from key_file. When
 * create_if_missing and the file does not exist, a new random key is written to it (0600).
 * The first key is the primary (used to seal); the others only open. *out is freed with
 * pms_keyring_free. PMS_ERR_CONFIG for key text that is not a key, a missing file (when not
 * created), a file open to group/others or without a key; PMS_ERR_IO for system call failures. */
int pms_keyring_load(const char *env_value, const char *key_file, bool create_if_missing,
                     pms_keyring **out, pms_error *err);
/* A key ring of one raw key (tests, tools). */
int pms_keyring_from_raw(const unsigned char key[PMS_KEY_BYTES], pms_keyring **out, pms_error *err);
/* Adds an older key accepted for opening (a key already in the ring is not added twice). */
int pms_keyring_add_raw(pms_keyring *ring, const unsigned char key[PMS_KEY_BYTES], pms_error *err);
/* Id of the primary key, borrowed from the ring (valid until the ring is freed; after a reload
 * it still names the key that was primary when it was asked); NULL for NULL. */
const char *pms_keyring_primary_id(const pms_keyring *ring);
/* How many keys the ring holds now, and the id of the index-th (0: the primary) copied into out;
 * false when there is no such key. */
size_t pms_keyring_count(const pms_keyring *ring);
bool pms_keyring_key_id_at(const pms_keyring *ring, size_t index, char out[PMS_KEY_ID_LEN]);
/* Whether the ring holds a key with that id (reloading once, like pms_open, when it does not). */
bool pms_keyring_has_key(const pms_keyring *ring, const char *key_id);
/* Re-reads the key file the ring was loaded from and takes its keys, in the file's order (the
 * first becomes the primary; keys no longer in the file are wiped from memory). A ring without a
 * file (environment, raw keys) is left as it is: PMS_OK. On error the ring keeps its keys.
 * Safe while other threads seal and open with the ring. */
int pms_keyring_reload(const pms_keyring *ring, pms_error *err);
void pms_keyring_free(pms_keyring *ring);

/* Writes a new random key file (0600, refuses to overwrite: PMS_ERR_CONFLICT when path exists). */
int pms_key_file_generate(const char *path, pms_error *err);
/* Rotation: writes a new random key as the primary (first line) of an existing key file, the
 * file's keys after it, replacing the file atomically (a temporary file beside it with mode 0600
 * and the old file's owner, fsync'ed, renamed over it, the directory fsync'ed). Edits of one
 * file are serialised by a lock on "<path>.lock". Comments in the file are not kept; each key line
 * ends with "# key id <id>". new_id (may be NULL) receives the new key's id. PMS_ERR_CONFIG when
 * the file is missing, not a regular file (a symbolic link is refused) or not a key file. */
int pms_key_file_rotate(const char *path, char new_id[PMS_KEY_ID_LEN], pms_error *err);
/* Retirement: removes the key with that id from the key file, the same atomic way.
 * PMS_ERR_NOT_FOUND when the file holds no such key, PMS_ERR_INVALID for the primary (rotate
 * first). Checking that nothing still needs the key is the caller's job (rotation.h). */
int pms_key_file_remove(const char *path, const char *key_id, pms_error *err);
/* A new random key as 64 hex digits and its id, for key sources pmsync cannot edit
 * (PMSYNC_SECRET_KEY). The caller clears hex when done with it. */
int pms_key_new_hex(char hex[2 * PMS_KEY_BYTES + 1], char id[PMS_KEY_ID_LEN], pms_error *err);

/* HMAC-SHA256 of data under key. */
int pms_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[PMS_HMAC_BYTES], pms_error *err);
/* A key for another purpose derived from a ring key: HMAC-SHA256(ring key, label). key_id NULL
 * takes the primary; id_out (may be NULL) receives the id of the key used. The ring key never
 * leaves the ring. PMS_ERR_NOT_FOUND when the ring holds no key with that id (after one reload,
 * as pms_open does); PMS_ERR_CONFIG for an empty ring. The caller wipes out after use. */
int pms_keyring_derive(const pms_keyring *ring, const char *key_id, const char *label,
                       unsigned char out[PMS_KEY_BYTES], char id_out[PMS_KEY_ID_LEN],
                       pms_error *err);

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
/* Whether text has the shape of an envelope (prefix, key id, base64 of at least nonce and tag);
 * says nothing about whether it opens. */
bool pms_is_envelope(const char *text);

/* Zeroes and frees a secret buffer of len bytes (len may be strlen). */
void pms_secure_free(void *p, size_t len);

/* Standard base64 with padding. *out is a new NUL-terminated string the caller frees. */
int pms_base64_encode(const void *in, size_t len, char **out, pms_error *err);
/* Strict decoding: the standard alphabet, no blanks, padding (required when
 * padding_required, else optional) and zero unused bits — only the canonical text of some bytes
 * is accepted. *out (len + 1 bytes, NUL-terminated for convenience) is freed by the caller. */
int pms_base64_decode(const char *in, size_t len, bool padding_required, unsigned char **out,
                      size_t *out_len, pms_error *err);

int pms_random_bytes(void *buf, size_t len, pms_error *err);
/* Random UUID version 4, lower case. */
int pms_uuid_v4(char out[PMS_UUID_LEN], pms_error *err);
/* Hex SHA-256 of data (65 bytes with NUL). */
void pms_sha256_hex(const void *data, size_t len, char out[65]);

/* Frees the cipher and digest fetched on first use. Optional: call it at most once, at the end of
 * main after every other thread has stopped; sealing and opening fail with PMS_ERR_CRYPTO
 * afterwards (nothing is fetched again). Without it the objects stay reachable until exit. */
void pms_crypto_cleanup(void);

#endif
