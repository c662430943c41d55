/* Users and browser sessions: the scrypt password hash (its documented format, recomputed here
 * independently with OpenSSL), username and password rules, one refusal for every failed
 * sign-in, session tokens (shape, uniqueness, only their hash stored), and the sessions that stop
 * working: expired, revoked, their key revoked, their user disabled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pmsync/accounts.h"
#include "pmsync/tz.h"
#include "pmsync/users.h"
#include "pmsync/websessions.h"
#include "sandbox_proc.h"
#include "testutil.h"

#define PASSWORD "correct horse battery"

typedef struct fixture {
    char *dir;
    char db_path[512];
    pms_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->db_path, sizeof f->db_path, "%s/pmsync.db", f->dir);
    f->st = tu_open_store(f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pms_store_close(f->st);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void add_user(fixture *f, const char *username, pms_role role, pms_user *out)
{
    pms_error err = {0};
    if (pms_user_create(f->st, PMS_DEFAULT_ACCOUNT_ID, username, PASSWORD, role, out, &err) !=
        PMS_OK)
        fail_msg("cannot add a user: %s", err.message);
}

/* ---- passwords ---------------------------------------------------------------------------- */

static void password_hash_has_the_documented_format(void **state)
{
    (void)state;
    char *hash = NULL;
    assert_int_equal(pms_password_hash(PASSWORD, &hash, NULL), PMS_OK);
    assert_int_equal(strncmp(hash, "scrypt$32768$8$1$", 17), 0);
    assert_null(strstr(hash, PASSWORD));
    /* Recompute it from the description: scrypt(password, salt, N, r, p) into 32 bytes. */
    char *salt_b64 = hash + 17, *dollar = strchr(salt_b64, '$');
    assert_non_null(dollar);
    unsigned char *salt = NULL, *stored = NULL;
    size_t salt_len = 0, stored_len = 0;
    assert_int_equal(
        pms_base64_decode(salt_b64, (size_t)(dollar - salt_b64), true, &salt, &salt_len, NULL),
        PMS_OK);
    assert_int_equal(
        pms_base64_decode(dollar + 1, strlen(dollar + 1), true, &stored, &stored_len, NULL),
        PMS_OK);
    assert_int_equal(salt_len, 16);
    assert_int_equal(stored_len, 32);
    unsigned char mine[32];
    assert_int_equal(EVP_PBE_scrypt(PASSWORD, strlen(PASSWORD), salt, salt_len, 32768, 8, 1,
                                    64u << 20, mine, sizeof mine),
                     1);
    assert_memory_equal(mine, stored, 32);
    free(salt);
    free(stored);

    /* A new salt every time. */
    char *again = NULL;
    assert_int_equal(pms_password_hash(PASSWORD, &again, NULL), PMS_OK);
    assert_string_not_equal(hash, again);
    assert_int_equal(pms_password_verify(PASSWORD, hash, NULL), PMS_OK);
    assert_int_equal(pms_password_verify(PASSWORD, again, NULL), PMS_OK);
    pms_error err = {0};
    assert_int_equal(pms_password_verify("correct horse batterY", hash, &err), PMS_ERR_AUTH);
    assert_null(strstr(err.message, "correct"));
    assert_int_equal(pms_password_verify("", hash, NULL), PMS_ERR_AUTH);
    free(hash);
    free(again);
}

static void malformed_or_greedy_hashes_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "bcrypt$2b$10$abc",
        "scrypt$32768$8$1$",
        "scrypt$32768$8$1$AAAA",
        "scrypt$30000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        /* 2^24 * 8 * 128 bytes = 16 GiB: refused before any work */
        "scrypt$16777216$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$32768$8$1$!!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
        NULL,
    };
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(pms_password_verify(PASSWORD, bad[i], NULL), PMS_ERR_PARSE);
}

static void password_and_username_rules(void **state)
{
    (void)state;
    pms_error err = {0};
    assert_int_equal(pms_password_check("eleven char", &err), PMS_ERR_INVALID);
    assert_string_equal(err.field, "password");
    assert_int_equal(pms_password_check("twelve chars", NULL), PMS_OK);
    /* Characters, not bytes: twelve two-byte letters pass, eleven do not. */
    assert_int_equal(pms_password_check("éééééééééééé", NULL), PMS_OK);
    assert_int_equal(pms_password_check("ééééééééééé", NULL), PMS_ERR_INVALID);
    char *long_one = malloc(PMS_PASSWORD_MAX + 2);
    memset(long_one, 'x', PMS_PASSWORD_MAX + 1);
    long_one[PMS_PASSWORD_MAX + 1] = '\0';
    assert_int_equal(pms_password_check(long_one, NULL), PMS_ERR_INVALID);
    free(long_one);

    char name[PMS_USERNAME_MAX + 1];
    assert_int_equal(pms_username_normalize("Reception@Yarra-Valley.Clinic_1", name, NULL), PMS_OK);
    assert_string_equal(name, "reception@yarra-valley.clinic_1");
    static const char *const bad[] = {"ab", "has space", "semi;colon", "ünï", "", NULL};
    for (size_t i = 0; bad[i]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(pms_username_normalize(bad[i], name, &err), PMS_ERR_INVALID);
        assert_string_equal(err.field, "username");
    }
    char long_name[80];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    assert_int_equal(pms_username_normalize(long_name, name, NULL), PMS_ERR_INVALID);
    long_name[64] = '\0';
    assert_int_equal(pms_username_normalize(long_name, name, NULL), PMS_OK);
}

/* ---- users ------------------------------------------------------------------------------- */

static void users_sign_in_with_one_refusal_for_every_cause(void **state)
{
    fixture *f = *state;
    pms_user u;
    add_user(f, "Front.Desk", PMS_ROLE_STAFF, &u);
    assert_string_equal(u.username, "front.desk");
    assert_int_equal(u.role, PMS_ROLE_STAFF);
    pms_user_clear(&u);
    /* The same name in any case is taken, in any account. */
    char other[PMS_UUID_LEN];
    assert_int_equal(pms_account_create(f->st, "Other", NULL, other, NULL), PMS_OK);
    pms_error err = {0};
    assert_int_equal(
        pms_user_create(f->st, other, "FRONT.DESK", PASSWORD, PMS_ROLE_ADMIN, NULL, &err),
        PMS_ERR_CONFLICT);
    assert_string_equal(err.field, "username");
    assert_int_equal(
        pms_user_create(f->st, "no-such-account", "someone", PASSWORD, PMS_ROLE_ADMIN, NULL, NULL),
        PMS_ERR_NOT_FOUND);
    assert_int_equal(pms_user_create(f->st, other, "someone", "short", PMS_ROLE_ADMIN, NULL, &err),
                     PMS_ERR_INVALID);
    assert_string_equal(err.field, "password");

    pms_user who;
    assert_int_equal(pms_user_authenticate(f->st, "FRONT.desk", PASSWORD, &who, NULL), PMS_OK);
    assert_string_equal(who.account_id, PMS_DEFAULT_ACCOUNT_ID);
    pms_user_clear(&who);

    /* Wrong password, unknown user, malformed name, disabled user: one message. */
    char first[256] = "";
    struct {
        const char *username, *password;
    } refused[] = {
        {"front.desk", "correct horse batterx"},
        {"nobody.here", PASSWORD},
        {"x", PASSWORD},
        {"front.desk", ""},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(
            pms_user_authenticate(f->st, refused[i].username, refused[i].password, &who, &err),
            PMS_ERR_AUTH);
        if (i == 0)
            snprintf(first, sizeof first, "%s", err.message);
        assert_string_equal(err.message, first);
    }
    assert_int_equal(pms_user_disable(f->st, "Front.Desk", NULL, NULL), PMS_OK);
    assert_int_equal(pms_user_disable(f->st, "front.desk", NULL, NULL), PMS_OK); /* again: ok */
    memset(&err, 0, sizeof err);
    assert_int_equal(pms_user_authenticate(f->st, "front.desk", PASSWORD, &who, &err),
                     PMS_ERR_AUTH);
    assert_string_equal(err.message, first);
    assert_int_equal(pms_user_disable(f->st, "nobody.here", NULL, NULL), PMS_ERR_NOT_FOUND);

    /* A new password replaces the old one. */
    add_user(f, "nurse", PMS_ROLE_STAFF, NULL);
    assert_int_equal(pms_user_set_password(f->st, "nurse", "a whole new password", NULL, NULL),
                     PMS_OK);
    assert_int_equal(pms_user_authenticate(f->st, "nurse", PASSWORD, &who, NULL), PMS_ERR_AUTH);
    assert_int_equal(pms_user_authenticate(f->st, "nurse", "a whole new password", &who, NULL),
                     PMS_OK);
    pms_user_clear(&who);

    /* Listing and JSON never show the hash. */
    pms_user_array all = {0};
    assert_int_equal(pms_user_list(f->st, PMS_DEFAULT_ACCOUNT_ID, &all, NULL), PMS_OK);
    assert_int_equal(all.count, 2);
    json_t *j = pms_user_to_json(&all.items[0]);
    char *text = json_dumps(j, 0);
    assert_null(strstr(text, "scrypt"));
    assert_non_null(strstr(text, "\"active\": false"));
    free(text);
    json_decref(j);
    pms_user_array_clear(&all);
    assert_int_equal(pms_user_list(f->st, other, &all, NULL), PMS_OK);
    assert_int_equal(all.count, 0);
    pms_user_array_clear(&all);
    /* The password itself is nowhere in the database. */
    assert_false(tu_file_contains(f->db_path, PASSWORD));
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", f->db_path);
    assert_false(tu_file_contains(wal, PASSWORD));
    assert_false(tu_file_contains(wal, "a whole new password"));
}

/* ---- sessions ---------------------------------------------------------------------------- */

static bool base64url(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

static void session_tokens_are_random_and_only_their_hash_is_stored(void **state)
{
    fixture *f = *state;
    pms_user u;
    add_user(f, "reception", PMS_ROLE_STAFF, &u);
    pms_web_session_owner owner = {PMS_DEFAULT_ACCOUNT_ID, PMS_ROLE_STAFF, NULL, u.id};
    enum { COUNT = 4 };
    char tokens[COUNT][PMS_WEB_SESSION_TOKEN_LEN + 1];
    for (size_t i = 0; i < COUNT; i++) {
        pms_web_session ws;
        assert_int_equal(pms_web_session_create(f->st, &owner, 3600000, tokens[i], &ws, NULL),
                         PMS_OK);
        assert_int_equal(strlen(tokens[i]), PMS_WEB_SESSION_TOKEN_LEN);
        assert_true(base64url(tokens[i]));
        assert_int_equal(strlen(ws.csrf_token), PMS_WEB_SESSION_TOKEN_LEN);
        assert_true(base64url(ws.csrf_token));
        assert_string_not_equal(ws.csrf_token, tokens[i]);
        char id[PMS_WEB_SESSION_ID_LEN];
        pms_sha256_hex(tokens[i], strlen(tokens[i]), id);
        assert_string_equal(ws.id, id);
        assert_string_equal(ws.principal_name, "reception");
        assert_string_equal(ws.account_name, "Default account");
        assert_true(ws.principal_active);
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(tokens[k], tokens[i]);
        pms_web_session_clear(&ws);
    }
    const char *suffixes[] = {"", "-wal"};
    for (size_t i = 0; i < COUNT; i++)
        for (size_t s = 0; s < 2; s++) {
            char path[600];
            snprintf(path, sizeof path, "%s%s", f->db_path, suffixes[s]);
            assert_false(tu_file_contains(path, tokens[i]));
        }
    pms_web_session ws;
    assert_int_equal(pms_web_session_lookup(f->st, tokens[0], &ws, NULL), PMS_OK);
    assert_string_equal(ws.user_id, u.id);
    assert_null(ws.api_key_id);
    assert_int_equal(ws.role, PMS_ROLE_STAFF);
    pms_web_session_clear(&ws);
    /* Malformed and unknown tokens are not found. */
    char unknown[PMS_WEB_SESSION_TOKEN_LEN + 1];
    assert_int_equal(pms_random_token(unknown, NULL), PMS_OK);
    static const char *const bad[] = {"", "short", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
                                      NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(pms_web_session_lookup(f->st, bad[i], &ws, NULL), PMS_ERR_NOT_FOUND);
    assert_int_equal(pms_web_session_lookup(f->st, unknown, &ws, NULL), PMS_ERR_NOT_FOUND);
    assert_int_equal(pms_web_session_lookup(f->st, NULL, &ws, NULL), PMS_ERR_NOT_FOUND);
    pms_user_clear(&u);
}

static void sessions_stop_when_expired_revoked_or_their_owner_is_gone(void **state)
{
    fixture *f = *state;
    pms_user u;
    add_user(f, "doctor", PMS_ROLE_ADMIN, &u);
    char *key = NULL;
    pms_api_key k;
    assert_int_equal(
        pms_api_key_create(f->st, PMS_DEFAULT_ACCOUNT_ID, "ui", PMS_ROLE_STAFF, &key, &k, NULL),
        PMS_OK);
    pms_web_session_owner by_user = {PMS_DEFAULT_ACCOUNT_ID, PMS_ROLE_ADMIN, NULL, u.id};
    pms_web_session_owner by_key = {PMS_DEFAULT_ACCOUNT_ID, PMS_ROLE_STAFF, k.id, NULL};
    pms_web_session_owner neither = {PMS_DEFAULT_ACCOUNT_ID, PMS_ROLE_STAFF, NULL, NULL};
    char t_expired[48], t_revoked[48], t_key[48], t_user[48], t_none[48];
    pms_web_session ws;
    assert_int_equal(pms_web_session_create(f->st, &neither, 1000, t_none, &ws, NULL),
                     PMS_ERR_INVALID);
    assert_int_equal(pms_web_session_create(f->st, &by_user, 1, t_expired, &ws, NULL), PMS_OK);
    pms_web_session_clear(&ws);
    assert_int_equal(pms_web_session_create(f->st, &by_user, 60000, t_revoked, &ws, NULL), PMS_OK);
    char revoked_id[PMS_WEB_SESSION_ID_LEN];
    snprintf(revoked_id, sizeof revoked_id, "%s", ws.id);
    pms_web_session_clear(&ws);
    assert_int_equal(pms_web_session_create(f->st, &by_key, 60000, t_key, &ws, NULL), PMS_OK);
    assert_string_equal(ws.principal_name, "ui");
    assert_string_equal(ws.api_key_id, k.id);
    pms_web_session_clear(&ws);
    assert_int_equal(pms_web_session_create(f->st, &by_user, 60000, t_user, &ws, NULL), PMS_OK);
    pms_web_session_clear(&ws);

    tu_sleep_ms(5);
    assert_int_equal(pms_web_session_lookup(f->st, t_expired, &ws, NULL), PMS_ERR_NOT_FOUND);
    assert_int_equal(pms_web_session_lookup(f->st, t_revoked, &ws, NULL), PMS_OK);
    pms_web_session_clear(&ws);
    assert_int_equal(pms_web_session_revoke(f->st, revoked_id, NULL), PMS_OK);
    assert_int_equal(pms_web_session_lookup(f->st, t_revoked, &ws, NULL), PMS_ERR_NOT_FOUND);
    assert_int_equal(pms_web_session_revoke(f->st, "0000", NULL), PMS_ERR_NOT_FOUND);

    /* Revoking the key ends its sessions; disabling the user ends theirs. */
    assert_int_equal(pms_web_session_lookup(f->st, t_key, &ws, NULL), PMS_OK);
    pms_web_session_clear(&ws);
    assert_int_equal(pms_api_key_revoke(f->st, NULL, k.id, NULL), PMS_OK);
    assert_int_equal(pms_web_session_lookup(f->st, t_key, &ws, NULL), PMS_ERR_NOT_FOUND);
    assert_int_equal(pms_web_session_lookup(f->st, t_user, &ws, NULL), PMS_OK);
    pms_web_session_clear(&ws);
    assert_int_equal(pms_user_disable(f->st, "doctor", NULL, NULL), PMS_OK);
    assert_int_equal(pms_web_session_lookup(f->st, t_user, &ws, NULL), PMS_ERR_NOT_FOUND);

    /* Purging removes the expired and the revoked ones. */
    int purged = 0;
    assert_int_equal(pms_web_session_purge(f->st, &purged, NULL), PMS_OK);
    assert_int_equal(purged, 2);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM web_sessions"), 2);
    pms_secure_free(key, strlen(key));
    pms_api_key_clear(&k);
    pms_user_clear(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(password_hash_has_the_documented_format),
        cmocka_unit_test(malformed_or_greedy_hashes_are_refused),
        cmocka_unit_test(password_and_username_rules),
        cmocka_unit_test_setup_teardown(users_sign_in_with_one_refusal_for_every_cause, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(session_tokens_are_random_and_only_their_hash_is_stored,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(sessions_stop_when_expired_revoked_or_their_owner_is_gone,
                                        setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pms_crypto_cleanup();
    pms_tz_cleanup();
    return failed;
}
