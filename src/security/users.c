/* Users of the web UI: usernames, scrypt password hashes, sign-in checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pmsync/users.h"

#define HASH_TAG "scrypt"
/* The most memory a stored hash may ask for (128 * r * N bytes). */
#define SCRYPT_MAX_MEMORY (256u << 20)

int pms_username_normalize(const char *username, char out[PMS_USERNAME_MAX + 1], pms_error *err)
{
    out[0] = '\0';
    size_t len = username ? strnlen(username, PMS_USERNAME_MAX + 1) : 0;
    if (len < PMS_USERNAME_MIN || len > PMS_USERNAME_MAX) {
        pms_error_set(err, PMS_ERR_INVALID, "a username must be %d to %d characters",
                      PMS_USERNAME_MIN, PMS_USERNAME_MAX);
        return pms_error_field(err, "username");
    }
    for (size_t i = 0; i < len; i++) {
        char c = username[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '@' || c == '-')) {
            out[0] = '\0';
            pms_error_set(err, PMS_ERR_INVALID,
                          "a username may hold only letters, digits and . _ @ -");
            return pms_error_field(err, "username");
        }
        out[i] = c;
    }
    out[len] = '\0';
    return PMS_OK;
}

int pms_password_check(const char *password, pms_error *err)
{
    size_t bytes = password ? strnlen(password, PMS_PASSWORD_MAX + 1) : 0;
    size_t chars = 0;
    for (size_t i = 0; i < bytes; i++)
        chars += ((unsigned char)password[i] & 0xC0) != 0x80; /* not a continuation byte */
    if (chars < PMS_PASSWORD_MIN)
        pms_error_set(err, PMS_ERR_INVALID, "a password must be at least %d characters",
                      PMS_PASSWORD_MIN);
    else if (bytes > PMS_PASSWORD_MAX)
        pms_error_set(err, PMS_ERR_INVALID, "a password must be at most %d bytes",
                      PMS_PASSWORD_MAX);
    else
        return PMS_OK;
    return pms_error_field(err, "password");
}

/* scrypt of password under salt with the given parameters into out. */
static int derive(const char *password, const unsigned char *salt, size_t salt_len, uint64_t n,
                  uint64_t r, uint64_t p, unsigned char out[PMS_SCRYPT_KEYLEN], pms_error *err)
{
    uint64_t maxmem = 128 * r * (n + p + 2) + (1u << 20);
    if (EVP_PBE_scrypt(password, strlen(password), salt, salt_len, n, r, p, maxmem, out,
                       PMS_SCRYPT_KEYLEN) != 1)
        return pms_error_set(err, PMS_ERR_CRYPTO, "cannot hash the password (scrypt failed)");
    return PMS_OK;
}

int pms_password_hash(const char *password, char **out, pms_error *err)
{
    *out = NULL;
    int rc = pms_password_check(password, err);
    if (rc != PMS_OK)
        return rc;
    unsigned char salt[PMS_SCRYPT_SALT], hash[PMS_SCRYPT_KEYLEN];
    char *salt_b64 = NULL, *hash_b64 = NULL;
    if ((rc = pms_random_bytes(salt, sizeof salt, err)) != PMS_OK ||
        (rc = derive(password, salt, sizeof salt, PMS_SCRYPT_N, PMS_SCRYPT_R, PMS_SCRYPT_P, hash,
                     err)) != PMS_OK ||
        (rc = pms_base64_encode(salt, sizeof salt, &salt_b64, err)) != PMS_OK ||
        (rc = pms_base64_encode(hash, sizeof hash, &hash_b64, err)) != PMS_OK)
        goto out;
    if (asprintf(out, HASH_TAG "$%d$%d$%d$%s$%s", PMS_SCRYPT_N, PMS_SCRYPT_R, PMS_SCRYPT_P,
                 salt_b64, hash_b64) < 0) {
        *out = NULL;
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
out:
    OPENSSL_cleanse(hash, sizeof hash);
    free(salt_b64);
    free(hash_b64);
    return rc;
}

/* Reads a decimal field of a stored hash ending at '$'; advances *p past the '$'. */
static bool read_number(const char **p, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    if (**p < '0' || **p > '9')
        return false;
    unsigned long long v = strtoull(*p, &end, 10);
    if (*end != '$' || v < min || v > max)
        return false;
    *out = v;
    *p = end + 1;
    return true;
}

int pms_password_verify(const char *password, const char *stored, pms_error *err)
{
    uint64_t n, r, p;
    const char *at = stored;
    if (stored == NULL || strncmp(at, HASH_TAG "$", sizeof HASH_TAG) != 0)
        return pms_error_set(err, PMS_ERR_PARSE, "not a password hash this version writes");
    at += sizeof HASH_TAG;
    if (!read_number(&at, 2, 1u << 24, &n) || (n & (n - 1)) != 0 || !read_number(&at, 1, 64, &r) ||
        !read_number(&at, 1, 16, &p) || 128 * r * n > SCRYPT_MAX_MEMORY)
        return pms_error_set(err, PMS_ERR_PARSE, "a password hash with unusable parameters");
    const char *dollar = strchr(at, '$');
    if (dollar == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "a password hash without its parts");
    unsigned char *salt = NULL, *expected = NULL;
    size_t salt_len = 0, expected_len = 0;
    unsigned char got[PMS_SCRYPT_KEYLEN];
    int rc;
    if (pms_base64_decode(at, (size_t)(dollar - at), true, &salt, &salt_len, NULL) != PMS_OK ||
        pms_base64_decode(dollar + 1, strlen(dollar + 1), true, &expected, &expected_len, NULL) !=
            PMS_OK ||
        expected_len != PMS_SCRYPT_KEYLEN || salt_len == 0) {
        rc = pms_error_set(err, PMS_ERR_PARSE, "a password hash that is not base64");
    } else if ((rc = derive(password ? password : "", salt, salt_len, n, r, p, got, err)) ==
               PMS_OK) {
        rc = CRYPTO_memcmp(got, expected, PMS_SCRYPT_KEYLEN) == 0
                 ? PMS_OK
                 : pms_error_set(err, PMS_ERR_AUTH, PMS_USER_NOT_ACCEPTED);
    }
    OPENSSL_cleanse(got, sizeof got);
    free(salt);
    free(expected);
    return rc;
}

/* ---- users ----------------------------------------------------------------------------- */

static int copy_user(const pms_user *from, pms_user *to, pms_error *err)
{
    memset(to, 0, sizeof *to);
    *to = *from;
    to->id = strdup(from->id);
    to->account_id = strdup(from->account_id);
    to->username = strdup(from->username);
    to->password_hash = strdup(from->password_hash);
    if (to->id && to->account_id && to->username && to->password_hash)
        return PMS_OK;
    pms_user_clear(to);
    return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}

int pms_user_create(pms_store *st, const char *account_id, const char *username,
                    const char *password, pms_role role, pms_user *out, pms_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    char name[PMS_USERNAME_MAX + 1], id[PMS_UUID_LEN];
    char *hash = NULL;
    if (account_id == NULL || account_id[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "a user needs an account");
    if (role != PMS_ROLE_ADMIN && role != PMS_ROLE_STAFF && role != PMS_ROLE_AGENT) {
        pms_error_set(err, PMS_ERR_INVALID, "role must be admin, staff or agent");
        return pms_error_field(err, "role");
    }
    int rc = pms_username_normalize(username, name, err);
    if (rc == PMS_OK)
        rc = pms_password_hash(password, &hash, err);
    if (rc == PMS_OK)
        rc = pms_uuid_v4(id, err);
    if (rc != PMS_OK)
        goto out;
    pms_user u = {
        .id = id,
        .account_id = (char *)account_id,
        .username = name,
        .password_hash = hash,
        .role = role,
        .created_at = pms_now(),
        .disabled_at = PMS_INSTANT_NONE,
    };
    rc = st->ops->user_insert(st, &u, err);
    if (rc == PMS_ERR_CONFLICT) {
        pms_user taken;
        if (st->ops->user_get(st, NULL, name, &taken, NULL) == PMS_OK) {
            pms_user_clear(&taken);
            pms_error_set(err, PMS_ERR_CONFLICT, "the username %s is taken", name);
            pms_error_field(err, "username");
        }
    }
    if (rc == PMS_OK && out)
        rc = copy_user(&u, out, err);
out:
    if (hash)
        pms_secure_free(hash, strlen(hash));
    return rc;
}

int pms_user_get(pms_store *st, const char *username, pms_user *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    char name[PMS_USERNAME_MAX + 1];
    if (pms_username_normalize(username, name, NULL) != PMS_OK)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such user");
    return st->ops->user_get(st, NULL, name, out, err);
}

int pms_user_list(pms_store *st, const char *account_id, pms_user_array *out, pms_error *err)
{
    return st->ops->user_list(st, account_id, out, err);
}

int pms_user_disable(pms_store *st, const char *username, pms_user *out, pms_error *err)
{
    pms_user u;
    int rc = pms_user_get(st, username, &u, err);
    if (rc == PMS_OK)
        rc = st->ops->user_disable(st, u.id, pms_now(), err);
    if (rc == PMS_OK && out)
        *out = u;
    else
        pms_user_clear(&u);
    return rc;
}

int pms_user_set_password(pms_store *st, const char *username, const char *password, pms_user *out,
                          pms_error *err)
{
    pms_user u;
    char *hash = NULL;
    int rc = pms_user_get(st, username, &u, err);
    if (rc == PMS_OK)
        rc = pms_password_hash(password, &hash, err);
    if (rc == PMS_OK)
        rc = st->ops->user_set_password(st, u.id, hash, err);
    if (hash)
        pms_secure_free(hash, strlen(hash));
    if (rc == PMS_OK && out)
        *out = u;
    else
        pms_user_clear(&u);
    return rc;
}

/* The work of a verification, for a username that does not exist: the same time is spent. */
static void dummy_verify(const char *password)
{
    static const unsigned char salt[PMS_SCRYPT_SALT] = {0};
    unsigned char sink[PMS_SCRYPT_KEYLEN];
    derive(password ? password : "", salt, sizeof salt, PMS_SCRYPT_N, PMS_SCRYPT_R, PMS_SCRYPT_P,
           sink, NULL);
    OPENSSL_cleanse(sink, sizeof sink);
}

int pms_user_authenticate(pms_store *st, const char *username, const char *password, pms_user *out,
                          pms_error *err)
{
    memset(out, 0, sizeof *out);
    pms_error store_err = {0};
    int rc = pms_user_get(st, username, out, &store_err);
    bool long_password = password && strnlen(password, PMS_PASSWORD_MAX + 1) > PMS_PASSWORD_MAX;
    if (rc == PMS_ERR_NOT_FOUND || long_password) {
        if (!long_password)
            dummy_verify(password);
        pms_user_clear(out);
        return pms_error_set(err, PMS_ERR_AUTH, PMS_USER_NOT_ACCEPTED);
    }
    if (rc != PMS_OK) {
        if (err)
            *err = store_err;
        pms_error_prefix(err, "cannot check the sign-in");
        return rc;
    }
    rc = pms_password_verify(password, out->password_hash, NULL);
    if (rc != PMS_OK || out->disabled_at != PMS_INSTANT_NONE) {
        pms_user_clear(out);
        return pms_error_set(err, PMS_ERR_AUTH, PMS_USER_NOT_ACCEPTED);
    }
    return PMS_OK;
}

json_t *pms_user_to_json(const pms_user *u)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", pms_json_string_or_null(u->id));
    json_object_set_new(o, "accountId", pms_json_string_or_null(u->account_id));
    json_object_set_new(o, "username", pms_json_string_or_null(u->username));
    json_object_set_new(o, "role", json_string(pms_role_name(u->role)));
    json_object_set_new(o, "createdAt", pms_json_instant_or_null(u->created_at));
    json_object_set_new(o, "disabledAt", pms_json_instant_or_null(u->disabled_at));
    json_object_set_new(o, "active", json_boolean(u->disabled_at == PMS_INSTANT_NONE));
    return o;
}
