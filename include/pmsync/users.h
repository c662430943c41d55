/* Users of the web UI: people of an account who sign in with a username and a password (pmsd's
 * POST /api/session) instead of pasting an API key. Each has a role, as API keys do (admin,
 * staff, agent), and can be disabled. pmsctl creates and manages them ('pmsctl user').
 *
 * Usernames: 3 to 64 characters of [a-z0-9._@-], unique across the database (a sign-in names no
 * account); upper-case letters given are folded to lower case.
 *
 * Passwords: at least 12 characters (at most 1024 bytes). Hashed with scrypt (OpenSSL's
 * EVP_PBE_scrypt) at N = 2^15, r = 8, p = 1 with a 16-byte random salt into 32 bytes, stored as
 * "scrypt$32768$8$1$<salt, base64>$<hash, base64>". Verification recomputes with the stored
 * parameters (bounded, so a tampered row cannot ask for unbounded memory) and compares with
 * CRYPTO_memcmp. A sign-in with an unknown username runs the same derivation on a dummy salt, so
 * the time taken does not tell which usernames exist. Unknown user, wrong password and disabled
 * user all give the same PMS_ERR_AUTH message. Passwords never reach a log or an error message.
 *
 * Thread safety: these functions use only the store handle they are given (one thread at a time
 * per handle, as store.h says). Each derivation takes about 32 MiB for about 0.1 s.
 */
#ifndef PMSYNC_USERS_H
#define PMSYNC_USERS_H

#include <jansson.h>

#include "pmsync/store.h"

#define PMS_USERNAME_MIN  3
#define PMS_USERNAME_MAX  64
#define PMS_PASSWORD_MIN  12   /* characters (UTF-8 code points) */
#define PMS_PASSWORD_MAX  1024 /* bytes */
#define PMS_SCRYPT_N      32768
#define PMS_SCRYPT_R      8
#define PMS_SCRYPT_P      1
#define PMS_SCRYPT_SALT   16
#define PMS_SCRYPT_KEYLEN 32

/* The one message of every refused sign-in. */
#define PMS_USER_NOT_ACCEPTED "username or password not accepted"

/* A username as stored (lower case) into out; PMS_ERR_INVALID naming the rule otherwise. */
int pms_username_normalize(const char *username, char out[PMS_USERNAME_MAX + 1], pms_error *err);
/* PMS_ERR_INVALID when a password is too short or too long. */
int pms_password_check(const char *password, pms_error *err);

/* Hashes a password (checked as pms_password_check) with a new salt. *out is a new string the
 * caller frees. */
int pms_password_hash(const char *password, char **out, pms_error *err);
/* PMS_OK when password matches stored; PMS_ERR_AUTH when it does not; PMS_ERR_PARSE when stored
 * is not a hash this code writes (or asks for more than 256 MiB). */
int pms_password_verify(const char *password, const char *stored, pms_error *err);

/* Creates a user of an account. out (may be NULL) receives the stored record (cleared with
 * pms_user_clear). PMS_ERR_INVALID naming the field ("username", "password", "role"),
 * PMS_ERR_CONFLICT when the username is taken, PMS_ERR_NOT_FOUND without such an account. */
int pms_user_create(pms_store *st, const char *account_id, const char *username,
                    const char *password, pms_role role, pms_user *out, pms_error *err);
/* By username (any case). PMS_ERR_NOT_FOUND. */
int pms_user_get(pms_store *st, const char *username, pms_user *out, pms_error *err);
/* An account's users (every account's when NULL), oldest first; pms_user_array_clear. */
int pms_user_list(pms_store *st, const char *account_id, pms_user_array *out, pms_error *err);
/* Disables a user: they can no longer sign in, and their browser sessions stop working.
 * Disabling a disabled user is PMS_OK. out (may be NULL) receives the record as it was before. */
int pms_user_disable(pms_store *st, const char *username, pms_user *out, pms_error *err);
/* Sets a new password. out (may be NULL) receives the user's record. */
int pms_user_set_password(pms_store *st, const char *username, const char *password, pms_user *out,
                          pms_error *err);
/* Checks a sign-in. PMS_OK fills *out (cleared with pms_user_clear); PMS_ERR_AUTH with
 * PMS_USER_NOT_ACCEPTED for an unknown user, a wrong password or a disabled user alike; another
 * code when the store failed (the caller answers 503, not 401). */
int pms_user_authenticate(pms_store *st, const char *username, const char *password, pms_user *out,
                          pms_error *err);

/* {id, accountId, username, role, createdAt, disabledAt, active}: never the password hash. New
 * reference. */
json_t *pms_user_to_json(const pms_user *u);

#endif
