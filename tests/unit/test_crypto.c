/* Secrets at rest: envelopes, key rings, key files, random ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pmsync/crypto.h"
#include "pmsync/error.h"

#define AAD "pms_connections/42/secrets"

static const unsigned char key_a[PMS_KEY_BYTES] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const char key_a_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char key_a_b64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

static const unsigned char key_b[PMS_KEY_BYTES] = {
    0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f,
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
};
static const char key_b_hex[] = "f0e1d2c3b4a5968778695a4b3c2d1e0f0123456789abcdeffedcba9876543210";

static pms_keyring *ring_of(const unsigned char *key)
{
    pms_keyring *ring = NULL;
    assert_int_equal(pms_keyring_from_raw(key, &ring, NULL), PMS_OK);
    assert_non_null(ring);
    return ring;
}

/* Opens and checks the plaintext; frees it. */
static void assert_opens_to(const pms_keyring *ring, const char *aad, const char *envelope,
                            const void *want, size_t want_len)
{
    char *plain = NULL;
    size_t plain_len = 0;
    pms_error err;
    int rc = pms_open(ring, aad, envelope, &plain, &plain_len, &err);
    if (rc != PMS_OK)
        fail_msg("open failed: %s", err.message);
    assert_int_equal(plain_len, want_len);
    assert_memory_equal(plain, want, want_len);
    assert_int_equal(plain[plain_len], '\0');
    pms_secure_free(plain, plain_len);
}

static void assert_does_not_open(const pms_keyring *ring, const char *aad, const char *envelope)
{
    char *plain = (char *)"not touched";
    size_t plain_len = 99;
    pms_error err;
    assert_int_equal(pms_open(ring, aad, envelope, &plain, &plain_len, &err), PMS_ERR_CRYPTO);
    assert_int_equal(err.code, PMS_ERR_CRYPTO);
    assert_null(plain);
    assert_int_equal(plain_len, 0);
}

static void seal_and_open_round_trip(void **state)
{
    (void)state;
    pms_keyring *ring = ring_of(key_a);
    static const char binary[] = {'a', '\0', 'b', '\xff', '\n'};
    char *big = malloc(100000);
    assert_non_null(big);
    for (size_t i = 0; i < 100000; i++)
        big[i] = (char)(i * 7 + 3);
    const struct {
        const void *data;
        size_t len;
    } values[] = {
        {"", 0},
        {"x", 1},
        {"client_secret=s3cr3t&refresh=abc.def.ghi", 41},
        {binary, sizeof binary},
        {big, 100000},
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char *envelope = NULL;
        assert_int_equal(pms_seal(ring, AAD, values[i].data, values[i].len, &envelope, NULL),
                         PMS_OK);
        assert_true(pms_is_envelope(envelope));
        assert_opens_to(ring, AAD, envelope, values[i].data, values[i].len);
        free(envelope);
    }
    /* NULL associated data is the empty string. */
    char *envelope = NULL;
    assert_int_equal(pms_seal(ring, NULL, "v", 1, &envelope, NULL), PMS_OK);
    assert_opens_to(ring, "", envelope, "v", 1);
    assert_opens_to(ring, NULL, envelope, "v", 1);
    free(envelope);
    free(big);
    pms_keyring_free(ring);
}

static void envelope_has_the_documented_shape(void **state)
{
    (void)state;
    pms_keyring *ring = ring_of(key_a);
    /* key id: first 8 bytes of SHA-256 over the key, lower-case hex */
    char digest[65];
    pms_sha256_hex(key_a, sizeof key_a, digest);
    char want_id[PMS_KEY_ID_LEN];
    memcpy(want_id, digest, 16);
    want_id[16] = '\0';
    assert_string_equal(pms_keyring_primary_id(ring), want_id);

    char *envelope = NULL;
    assert_int_equal(pms_seal(ring, AAD, "hello", 5, &envelope, NULL), PMS_OK);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "pmsenc:v1:%s:", want_id);
    assert_int_equal(strncmp(envelope, prefix, strlen(prefix)), 0);
    char id[PMS_KEY_ID_LEN];
    assert_int_equal(pms_envelope_key_id(envelope, id, NULL), PMS_OK);
    assert_string_equal(id, want_id);

    /* Decode and decrypt with plain OpenSSL: nonce[12] | ciphertext | tag[16]. */
    const char *b64 = envelope + strlen(prefix);
    unsigned char raw[64];
    int decoded = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)strlen(b64));
    int raw_len = decoded - (b64[strlen(b64) - 1] == '=') - (b64[strlen(b64) - 2] == '=');
    assert_int_equal(raw_len, 12 + 5 + 16);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned char plain[16];
    int n = 0, fin = 0;
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key_a, raw), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)AAD, strlen(AAD)), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, plain, &n, raw + 12, 5), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, raw + 17), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, plain + n, &fin), 1);
    assert_memory_equal(plain, "hello", 5);
    EVP_CIPHER_CTX_free(ctx);
    free(envelope);

    /* And the other way: an envelope built with plain OpenSSL and a fixed nonce opens. */
    unsigned char built[12 + 6 + 16];
    memcpy(built, "fixed-nonce!", 12);
    ctx = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key_a, built), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)AAD, strlen(AAD)), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, built + 12, &n, (const unsigned char *)"secret", 6), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, built + 18, &fin), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, built + 18), 1);
    EVP_CIPHER_CTX_free(ctx);
    char built_b64[64];
    EVP_EncodeBlock((unsigned char *)built_b64, built, sizeof built);
    char built_env[128];
    snprintf(built_env, sizeof built_env, "pmsenc:v1:%s:%s", want_id, built_b64);
    assert_opens_to(ring, AAD, built_env, "secret", 6);
    pms_keyring_free(ring);
}

static void wrong_aad_does_not_open(void **state)
{
    (void)state;
    pms_keyring *ring = ring_of(key_a);
    char *envelope = NULL;
    assert_int_equal(pms_seal(ring, AAD, "token", 5, &envelope, NULL), PMS_OK);
    assert_does_not_open(ring, "pms_connections/43/secrets", envelope);
    assert_does_not_open(ring, "", envelope);
    assert_does_not_open(ring, NULL, envelope);
    assert_does_not_open(ring, AAD "x", envelope);
    assert_opens_to(ring, AAD, envelope, "token", 5);
    free(envelope);
    pms_keyring_free(ring);
}

static void any_changed_byte_does_not_open(void **state)
{
    (void)state;
    pms_keyring *ring = ring_of(key_a);
    /* Lengths 0..3 give every base64 padding case (raw length 28..31 mod 3). */
    for (size_t len = 0; len < 4; len++) {
        char *envelope = NULL;
        assert_int_equal(pms_seal(ring, AAD, "abcd", len, &envelope, NULL), PMS_OK);
        size_t env_len = strlen(envelope);
        char *copy = malloc(env_len + 2);
        assert_non_null(copy);
        for (size_t i = 0; i < env_len; i++) {
            for (unsigned bit = 0; bit < 8; bit++) {
                memcpy(copy, envelope, env_len + 1);
                copy[i] = (char)(copy[i] ^ (1u << bit));
                if (copy[i] == '\0')
                    continue; /* that is a truncation, tested below */
                assert_does_not_open(ring, AAD, copy);
            }
        }
        for (size_t cut = 0; cut < env_len; cut++) {
            memcpy(copy, envelope, cut);
            copy[cut] = '\0';
            assert_does_not_open(ring, AAD, copy);
        }
        memcpy(copy, envelope, env_len);
        copy[env_len] = '\n';
        copy[env_len + 1] = '\0';
        assert_does_not_open(ring, AAD, copy);
        assert_opens_to(ring, AAD, envelope, "abcd", len);
        free(copy);
        free(envelope);
    }
    pms_keyring_free(ring);
}

static void wrong_key_does_not_open(void **state)
{
    (void)state;
    pms_keyring *ring_a = ring_of(key_a);
    pms_keyring *ring_b = ring_of(key_b);
    char *envelope = NULL;
    assert_int_equal(pms_seal(ring_a, AAD, "token", 5, &envelope, NULL), PMS_OK);
    pms_error err;
    char *plain = NULL;
    assert_int_equal(pms_open(ring_b, AAD, envelope, &plain, NULL, &err), PMS_ERR_CRYPTO);
    assert_null(plain);
    /* The id names key A; claiming key B's id makes B try, and the tag check fails. */
    char *forged = strdup(envelope);
    assert_non_null(forged);
    memcpy(forged + strlen("pmsenc:v1:"), pms_keyring_primary_id(ring_b), 16);
    assert_does_not_open(ring_b, AAD, forged);
    assert_does_not_open(ring_a, AAD, forged);
    free(forged);
    free(envelope);
    pms_keyring_free(ring_a);
    pms_keyring_free(ring_b);
}

static void older_key_in_ring_still_opens(void **state)
{
    (void)state;
    pms_keyring *old_ring = ring_of(key_a);
    char *old_envelope = NULL;
    assert_int_equal(pms_seal(old_ring, AAD, "old value", 9, &old_envelope, NULL), PMS_OK);

    /* Rotation: B is the new primary, A stays for opening. */
    pms_keyring *ring = ring_of(key_b);
    assert_int_equal(pms_keyring_add_raw(ring, key_a, NULL), PMS_OK);
    assert_int_equal(pms_keyring_add_raw(ring, key_a, NULL), PMS_OK); /* no duplicate */
    assert_opens_to(ring, AAD, old_envelope, "old value", 9);

    char *new_envelope = NULL;
    assert_int_equal(pms_seal(ring, AAD, "new value", 9, &new_envelope, NULL), PMS_OK);
    char id[PMS_KEY_ID_LEN];
    assert_int_equal(pms_envelope_key_id(new_envelope, id, NULL), PMS_OK);
    assert_string_equal(id, pms_keyring_primary_id(ring));
    assert_string_not_equal(id, pms_keyring_primary_id(old_ring));
    /* The old ring cannot open what the new primary sealed. */
    assert_does_not_open(old_ring, AAD, new_envelope);
    free(old_envelope);
    free(new_envelope);
    pms_keyring_free(ring);
    pms_keyring_free(old_ring);
}

static void same_plaintext_seals_differently(void **state)
{
    (void)state;
    pms_keyring *ring = ring_of(key_a);
    char *first = NULL, *second = NULL;
    assert_int_equal(pms_seal(ring, AAD, "same", 4, &first, NULL), PMS_OK);
    assert_int_equal(pms_seal(ring, AAD, "same", 4, &second, NULL), PMS_OK);
    assert_string_not_equal(first, second);
    /* The nonces (first 16 base64 characters of the payload) differ. */
    size_t head = strlen("pmsenc:v1:") + 17;
    assert_int_not_equal(memcmp(first + head, second + head, 16), 0);
    free(first);
    free(second);
    pms_keyring_free(ring);
}

static void envelope_shape_checks(void **state)
{
    (void)state;
    const char *not_envelopes[] = {
        NULL,
        "",
        "plain secret",
        "pmsenc:v1:",
        "pmsenc:v2:0123456789abcdef:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pmsenc:v1:0123456789ABCDEF:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pmsenc:v1:0123456789abcde:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pmsenc:v1:0123456789abcdef:AAAA",                                     /* too short */
        "pmsenc:v1:0123456789abcdef:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* 39 chars */
        "pmsenc:v1:0123456789abcdef:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA AAA", /* blank */
    };
    for (size_t i = 0; i < sizeof not_envelopes / sizeof not_envelopes[0]; i++) {
        assert_false(pms_is_envelope(not_envelopes[i]));
        char id[PMS_KEY_ID_LEN];
        pms_error err;
        assert_int_equal(pms_envelope_key_id(not_envelopes[i], id, &err), PMS_ERR_PARSE);
    }
    /* 28 zero bytes: the shape is right even though it opens under no key. */
    const char *shaped = "pmsenc:v1:0123456789abcdef:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
    assert_true(pms_is_envelope(shaped));
    char id[PMS_KEY_ID_LEN];
    assert_int_equal(pms_envelope_key_id(shaped, id, NULL), PMS_OK);
    assert_string_equal(id, "0123456789abcdef");
    pms_keyring *ring = ring_of(key_a);
    assert_does_not_open(ring, AAD, shaped);
    pms_error err;
    assert_int_equal(pms_open(ring, AAD, "plain secret", &(char *){NULL}, NULL, &err),
                     PMS_ERR_CRYPTO);
    pms_keyring_free(ring);
}

static void *seal_open_many(void *arg)
{
    const pms_keyring *ring = arg;
    for (int i = 0; i < 300; i++) {
        char value[32];
        int len = snprintf(value, sizeof value, "value %d", i);
        char *envelope = NULL;
        char *plain = NULL;
        size_t plain_len = 0;
        if (pms_seal(ring, AAD, value, (size_t)len, &envelope, NULL) != PMS_OK ||
            pms_open(ring, AAD, envelope, &plain, &plain_len, NULL) != PMS_OK ||
            plain_len != (size_t)len || memcmp(plain, value, plain_len) != 0) {
            free(envelope);
            pms_secure_free(plain, plain_len);
            return (void *)1;
        }
        free(envelope);
        pms_secure_free(plain, plain_len);
    }
    return NULL;
}

static void one_ring_serves_many_threads(void **state)
{
    (void)state;
    pms_keyring *ring = ring_of(key_a);
    pthread_t threads[6];
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, seal_open_many, ring), 0);
    for (size_t i = 0; i < 6; i++) {
        void *result = (void *)1;
        assert_int_equal(pthread_join(threads[i], &result), 0);
        assert_null(result);
    }
    pms_keyring_free(ring);
}

/* ---- key text and key files ------------------------------------------------------------ */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pmsync-crypto-XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in_tmp(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void env_key_text_is_read(void **state)
{
    (void)state;
    pms_keyring *want = ring_of(key_a);
    char upper[sizeof key_a_hex];
    for (size_t i = 0; i < sizeof key_a_hex; i++)
        upper[i] =
            (char)(key_a_hex[i] >= 'a' && key_a_hex[i] <= 'f' ? key_a_hex[i] - 32 : key_a_hex[i]);
    char unpadded[64];
    snprintf(unpadded, sizeof unpadded, "%.43s", key_a_b64);
    char with_newline[80];
    snprintf(with_newline, sizeof with_newline, "  %s\n", key_a_hex);
    const char *texts[] = {key_a_hex, upper, key_a_b64, unpadded, with_newline};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        pms_keyring *ring = NULL;
        pms_error err;
        int rc = pms_keyring_load(texts[i], "/nonexistent/pmsync.key", false, &ring, &err);
        if (rc != PMS_OK)
            fail_msg("env key %zu rejected: %s", i, err.message);
        assert_string_equal(pms_keyring_primary_id(ring), pms_keyring_primary_id(want));
        pms_keyring_free(ring);
    }
    pms_keyring_free(want);
}

static void bad_env_key_text_is_rejected_without_echo(void **state)
{
    (void)state;
    const char *bad[] = {
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",   /* 63 hex */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0", /* 65 hex */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",  /* not hex */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw=",                          /* 29 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==",                  /* 34 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",                      /* bits left over */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8=",                      /* base64url */
        "AAECAwQFBgcICQoLDA0O DxAREhMUFRYXGBkaGxwdHh8=",                     /* blank inside */
        "correct horse battery staple",
        "hunter2",
        " ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pms_keyring *ring = (pms_keyring *)&ring;
        pms_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(pms_keyring_load(bad[i], NULL, false, &ring, &err), PMS_ERR_CONFIG);
        assert_null(ring);
        assert_int_equal(err.code, PMS_ERR_CONFIG);
        assert_non_null(strstr(err.message, "PMSYNC_SECRET_KEY"));
        /* Neither the text nor a good part of it shows up. */
        char head[9];
        snprintf(head, sizeof head, "%s", bad[i]);
        if (strlen(head) >= 4) {
            assert_null(strstr(err.message, head));
            assert_null(strstr(err.detail, head));
        }
    }
}

static void env_key_list_puts_the_primary_first(void **state)
{
    (void)state;
    char text[256];
    snprintf(text, sizeof text, "%s, %s", key_b_hex, key_a_b64);
    pms_keyring *ring = NULL;
    pms_error err;
    assert_int_equal(pms_keyring_load(text, NULL, false, &ring, &err), PMS_OK);
    assert_int_equal(pms_keyring_count(ring), 2);
    pms_keyring *ring_a = ring_of(key_a), *ring_b = ring_of(key_b);
    assert_string_equal(pms_keyring_primary_id(ring), pms_keyring_primary_id(ring_b));
    char id[PMS_KEY_ID_LEN];
    assert_true(pms_keyring_key_id_at(ring, 1, id));
    assert_string_equal(id, pms_keyring_primary_id(ring_a));
    assert_false(pms_keyring_key_id_at(ring, 2, id));
    assert_true(pms_keyring_has_key(ring, id));
    assert_false(pms_keyring_has_key(ring, "0123456789abcdef"));
    /* the older key still opens; new values are sealed with the first */
    char *envelope = NULL;
    assert_int_equal(pms_seal(ring_a, AAD, "old", 3, &envelope, NULL), PMS_OK);
    assert_opens_to(ring, AAD, envelope, "old", 3);
    free(envelope);
    assert_int_equal(pms_seal(ring, AAD, "new", 3, &envelope, NULL), PMS_OK);
    assert_opens_to(ring_b, AAD, envelope, "new", 3);
    free(envelope);
    /* a ring without a file has nothing to reload */
    assert_int_equal(pms_keyring_reload(ring, &err), PMS_OK);
    assert_int_equal(pms_keyring_count(ring), 2);
    pms_keyring_free(ring);
    pms_keyring_free(ring_a);
    pms_keyring_free(ring_b);

    /* a bad item is named by position, never echoed */
    const char *bad[] = {"%s,", "%s,,%s", "%s,hunter2-hunter2-hunter2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, bad[i], key_a_hex, key_b_hex);
        memset(&err, 0, sizeof err);
        ring = NULL;
        assert_int_equal(pms_keyring_load(text, NULL, false, &ring, &err), PMS_ERR_CONFIG);
        assert_null(ring);
        assert_non_null(strstr(err.message, "PMSYNC_SECRET_KEY item 2"));
        assert_null(strstr(err.message, "hunter2"));
        assert_null(strstr(err.message, "00010203"));
    }
}

static void hmac_and_derived_keys(void **state)
{
    (void)state;
    /* RFC 4231 test case 2 */
    unsigned char mac[PMS_HMAC_BYTES];
    const char *data = "what do ya want for nothing?";
    assert_int_equal(pms_hmac_sha256("Jefe", 4, data, strlen(data), mac, NULL), PMS_OK);
    static const unsigned char want[PMS_HMAC_BYTES] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
    };
    assert_memory_equal(mac, want, sizeof want);

    /* derive(key, label) = HMAC(key, label); by id or the primary */
    pms_keyring *ring = ring_of(key_b);
    assert_int_equal(pms_keyring_add_raw(ring, key_a, NULL), PMS_OK);
    unsigned char derived[PMS_KEY_BYTES], expected[PMS_HMAC_BYTES];
    char id[PMS_KEY_ID_LEN];
    assert_int_equal(pms_keyring_derive(ring, NULL, "label", derived, id, NULL), PMS_OK);
    assert_string_equal(id, pms_keyring_primary_id(ring));
    assert_int_equal(pms_hmac_sha256(key_b, sizeof key_b, "label", 5, expected, NULL), PMS_OK);
    assert_memory_equal(derived, expected, sizeof expected);
    char id_a[PMS_KEY_ID_LEN];
    assert_true(pms_keyring_key_id_at(ring, 1, id_a));
    assert_int_equal(pms_keyring_derive(ring, id_a, "label", derived, id, NULL), PMS_OK);
    assert_string_equal(id, id_a);
    assert_int_equal(pms_hmac_sha256(key_a, sizeof key_a, "label", 5, expected, NULL), PMS_OK);
    assert_memory_equal(derived, expected, sizeof expected);
    pms_error err;
    assert_int_equal(pms_keyring_derive(ring, "0123456789abcdef", "label", derived, id, &err),
                     PMS_ERR_NOT_FOUND);
    pms_keyring_free(ring);
}

static void no_key_source_is_a_config_error(void **state)
{
    (void)state;
    pms_keyring *ring = NULL;
    pms_error err;
    assert_int_equal(pms_keyring_load(NULL, NULL, true, &ring, &err), PMS_ERR_CONFIG);
    assert_int_equal(pms_keyring_load("", "", true, &ring, &err), PMS_ERR_CONFIG);
    char path[128];
    path_in_tmp(path, sizeof path, "missing.key");
    assert_int_equal(pms_keyring_load(NULL, path, false, &ring, &err), PMS_ERR_CONFIG);
    assert_null(ring);
    assert_int_equal(access(path, F_OK), -1); /* not created */
}

static void generated_key_file_is_private_and_not_overwritten(void **state)
{
    (void)state;
    char path[128];
    path_in_tmp(path, sizeof path, "generated.key");
    mode_t old_umask = umask(0); /* the mode must not depend on the umask */
    int rc = pms_key_file_generate(path, NULL);
    umask(old_umask);
    assert_int_equal(rc, PMS_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);

    pms_keyring *ring = NULL;
    assert_int_equal(pms_keyring_load(NULL, path, false, &ring, NULL), PMS_OK);
    char id[PMS_KEY_ID_LEN];
    strcpy(id, pms_keyring_primary_id(ring));
    pms_keyring_free(ring);

    pms_error err;
    assert_int_equal(pms_key_file_generate(path, &err), PMS_ERR_CONFLICT);
    assert_int_equal(pms_keyring_load(NULL, path, true, &ring, NULL), PMS_OK);
    assert_string_equal(pms_keyring_primary_id(ring), id); /* the same key as before */
    pms_keyring_free(ring);

    /* A second generated key is a different key. */
    char other[128];
    path_in_tmp(other, sizeof other, "generated2.key");
    assert_int_equal(pms_key_file_generate(other, NULL), PMS_OK);
    assert_int_equal(pms_keyring_load(NULL, other, false, &ring, NULL), PMS_OK);
    assert_string_not_equal(pms_keyring_primary_id(ring), id);
    pms_keyring_free(ring);

    /* Not through a symlink, not into a missing directory. */
    char link_path[128];
    path_in_tmp(link_path, sizeof link_path, "link.key");
    char target[128];
    path_in_tmp(target, sizeof target, "target.key");
    assert_int_equal(symlink(target, link_path), 0);
    assert_int_not_equal(pms_key_file_generate(link_path, &err), PMS_OK);
    assert_int_equal(access(target, F_OK), -1);
    char nodir[128];
    path_in_tmp(nodir, sizeof nodir, "no/such/dir.key");
    assert_int_equal(pms_key_file_generate(nodir, &err), PMS_ERR_IO);
    assert_int_equal(pms_key_file_generate("", &err), PMS_ERR_INVALID);
}

static void load_creates_missing_key_file(void **state)
{
    (void)state;
    char path[128];
    path_in_tmp(path, sizeof path, "created.key");
    pms_keyring *ring = NULL;
    assert_int_equal(pms_keyring_load(NULL, path, true, &ring, NULL), PMS_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char *envelope = NULL;
    assert_int_equal(pms_seal(ring, AAD, "kept", 4, &envelope, NULL), PMS_OK);
    pms_keyring_free(ring);

    /* Loaded again (a restart): the same key opens what was sealed. */
    assert_int_equal(pms_keyring_load(NULL, path, true, &ring, NULL), PMS_OK);
    assert_opens_to(ring, AAD, envelope, "kept", 4);
    free(envelope);
    pms_keyring_free(ring);

    /* The environment wins over the file. */
    assert_int_equal(pms_keyring_load(key_b_hex, path, true, &ring, NULL), PMS_OK);
    pms_keyring *want = ring_of(key_b);
    assert_string_equal(pms_keyring_primary_id(ring), pms_keyring_primary_id(want));
    pms_keyring_free(want);
    pms_keyring_free(ring);
}

static void key_file_open_to_others_is_refused(void **state)
{
    (void)state;
    char path[128];
    path_in_tmp(path, sizeof path, "shared.key");
    char text[128];
    snprintf(text, sizeof text, "%s\n", key_a_hex);
    const mode_t modes[] = {0640, 0604, 0644, 0660, 0610, 0602};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        write_file(path, text, modes[i]);
        pms_keyring *ring = NULL;
        pms_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(pms_keyring_load(NULL, path, true, &ring, &err), PMS_ERR_CONFIG);
        assert_null(ring);
        assert_non_null(strstr(err.message, "group or others"));
        assert_non_null(strstr(err.message, "chmod 600"));
        assert_null(strstr(err.message, "000102030405"));
    }
    write_file(path, text, 0400);
    pms_keyring *ring = NULL;
    assert_int_equal(pms_keyring_load(NULL, path, false, &ring, NULL), PMS_OK);
    pms_keyring_free(ring);

    /* A directory is not a key file. */
    pms_error err;
    assert_int_equal(pms_keyring_load(NULL, tmpdir, false, &ring, &err), PMS_ERR_CONFIG);
}

static void key_file_holds_primary_then_older_keys(void **state)
{
    (void)state;
    char path[128];
    path_in_tmp(path, sizeof path, "rotated.key");
    char text[512];
    snprintf(text, sizeof text,
             "# pmsync secret key\n"
             "\n"
             "   %s   # current\r\n"
             "# rotated out 2026-01-05:\n"
             "%s\n"
             "\n",
             key_b_hex, key_a_b64);
    write_file(path, text, 0600);
    pms_keyring *ring = NULL;
    pms_error err;
    int rc = pms_keyring_load(NULL, path, false, &ring, &err);
    if (rc != PMS_OK)
        fail_msg("load failed: %s", err.message);
    pms_keyring *ring_b = ring_of(key_b);
    assert_string_equal(pms_keyring_primary_id(ring), pms_keyring_primary_id(ring_b));
    pms_keyring_free(ring_b);

    pms_keyring *old_ring = ring_of(key_a);
    char *old_envelope = NULL;
    assert_int_equal(pms_seal(old_ring, AAD, "from before", 11, &old_envelope, NULL), PMS_OK);
    assert_opens_to(ring, AAD, old_envelope, "from before", 11);
    free(old_envelope);
    pms_keyring_free(old_ring);
    pms_keyring_free(ring);

    /* A line that is not a key: named by number, never echoed. */
    snprintf(text, sizeof text, "%s\nsupersecretpassword\n", key_b_hex);
    write_file(path, text, 0600);
    memset(&err, 0, sizeof err);
    assert_int_equal(pms_keyring_load(NULL, path, false, &ring, &err), PMS_ERR_CONFIG);
    assert_null(ring);
    assert_non_null(strstr(err.message, "line 2"));
    assert_null(strstr(err.message, "supersecret"));
    assert_null(strstr(err.message, "f0e1d2c3"));

    /* Only comments: no key. */
    write_file(path, "# nothing here\n\n", 0600);
    assert_int_equal(pms_keyring_load(NULL, path, false, &ring, &err), PMS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "no key"));
}

/* ---- ids and hashes -------------------------------------------------------------------- */

static int compare_strings(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void uuids_are_v4_and_unique(void **state)
{
    (void)state;
    enum { COUNT = 10000 };
    char(*ids)[PMS_UUID_LEN] = malloc(COUNT * sizeof *ids);
    assert_non_null(ids);
    for (size_t i = 0; i < COUNT; i++) {
        assert_int_equal(pms_uuid_v4(ids[i], NULL), PMS_OK);
        const char *u = ids[i];
        assert_int_equal(strlen(u), 36);
        for (size_t j = 0; j < 36; j++) {
            if (j == 8 || j == 13 || j == 18 || j == 23) {
                assert_int_equal(u[j], '-');
            } else {
                assert_true((u[j] >= '0' && u[j] <= '9') || (u[j] >= 'a' && u[j] <= 'f'));
            }
        }
        assert_int_equal(u[14], '4');           /* version */
        assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
        assert_true(u[19] != '\0');
    }
    qsort(ids, COUNT, sizeof *ids, compare_strings);
    for (size_t i = 1; i < COUNT; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void sha256_hex_known_answers(void **state)
{
    (void)state;
    char out[65];
    pms_sha256_hex("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    pms_sha256_hex(NULL, 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    pms_sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void random_bytes_fill_buffers(void **state)
{
    (void)state;
    unsigned char a[64] = {0}, b[64] = {0};
    assert_int_equal(pms_random_bytes(a, sizeof a, NULL), PMS_OK);
    assert_int_equal(pms_random_bytes(b, sizeof b, NULL), PMS_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(pms_random_bytes(a, 0, NULL), PMS_OK);
    pms_secure_free(NULL, 0);
    char *secret = strdup("secret");
    pms_secure_free(secret, strlen(secret));
}

static void bad_arguments_are_invalid(void **state)
{
    (void)state;
    pms_keyring *ring = ring_of(key_a);
    char *envelope = (char *)"untouched";
    assert_int_equal(pms_seal(NULL, AAD, "x", 1, &envelope, NULL), PMS_ERR_INVALID);
    assert_null(envelope);
    assert_int_equal(pms_seal(ring, AAD, NULL, 1, &envelope, NULL), PMS_ERR_INVALID);
    assert_int_equal(pms_seal(ring, AAD, "x", 1, NULL, NULL), PMS_ERR_INVALID);
    char *plain = NULL;
    assert_int_equal(pms_open(NULL, AAD, "x", &plain, NULL, NULL), PMS_ERR_INVALID);
    assert_null(pms_keyring_primary_id(NULL));
    pms_keyring_free(NULL);
    pms_keyring_free(ring);
}

static void base64_is_strict_and_round_trips(void **state)
{
    (void)state;
    const char *samples[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *encoded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char *text = NULL;
        assert_int_equal(pms_base64_encode(samples[i], strlen(samples[i]), &text, NULL), PMS_OK);
        assert_string_equal(text, encoded[i]);
        unsigned char *bytes = NULL;
        size_t n = 0;
        assert_int_equal(pms_base64_decode(text, strlen(text), true, &bytes, &n, NULL), PMS_OK);
        assert_int_equal(n, strlen(samples[i]));
        assert_memory_equal(bytes, samples[i], n);
        free(bytes);
        free(text);
    }
    unsigned char *bytes = NULL;
    size_t n = 0;
    /* unused bits set ("Zh==" decodes to "f" leniently), blanks, bad characters */
    const char *bad[] = {"Zh==", "Zm9 v", "Zm9v\n", "Zm9*", "Z===", "Zm9vY"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pms_base64_decode(bad[i], strlen(bad[i]), false, &bytes, &n, NULL),
                         PMS_ERR_PARSE);
    /* padding optional unless required */
    assert_int_equal(pms_base64_decode("Zm8", 3, false, &bytes, &n, NULL), PMS_OK);
    assert_int_equal(n, 2);
    free(bytes);
    assert_int_equal(pms_base64_decode("Zm8", 3, true, &bytes, &n, NULL), PMS_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_is_strict_and_round_trips),
        /* First, so the threads race to the one-time fetch of the cipher. */
        cmocka_unit_test(one_ring_serves_many_threads),
        cmocka_unit_test(seal_and_open_round_trip),
        cmocka_unit_test(envelope_has_the_documented_shape),
        cmocka_unit_test(wrong_aad_does_not_open),
        cmocka_unit_test(any_changed_byte_does_not_open),
        cmocka_unit_test(wrong_key_does_not_open),
        cmocka_unit_test(older_key_in_ring_still_opens),
        cmocka_unit_test(same_plaintext_seals_differently),
        cmocka_unit_test(envelope_shape_checks),
        cmocka_unit_test(env_key_text_is_read),
        cmocka_unit_test(bad_env_key_text_is_rejected_without_echo),
        cmocka_unit_test(env_key_list_puts_the_primary_first),
        cmocka_unit_test(hmac_and_derived_keys),
        cmocka_unit_test(no_key_source_is_a_config_error),
        cmocka_unit_test(generated_key_file_is_private_and_not_overwritten),
        cmocka_unit_test(load_creates_missing_key_file),
        cmocka_unit_test(key_file_open_to_others_is_refused),
        cmocka_unit_test(key_file_holds_primary_then_older_keys),
        cmocka_unit_test(uuids_are_v4_and_unique),
        cmocka_unit_test(sha256_hex_known_answers),
        cmocka_unit_test(random_bytes_fill_buffers),
        cmocka_unit_test(bad_arguments_are_invalid),
    };
    int failed = cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
    pms_crypto_cleanup();
    return failed;
}
