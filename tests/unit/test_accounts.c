/* Accounts and API keys: the key's shape, uniqueness, hash-only storage, authentication of good,
 * revoked, unknown and malformed keys, the once-a-minute use stamp, and roles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "pmsync/accounts.h"
#include "pmsync/tz.h"
#include "testutil.h"

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

static bool all_base62(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}

/* Creates a key; returns its text (caller frees with pms_secure_free) and fills *rec. */
static char *new_key(pms_store *st, const char *account_id, const char *name, pms_role role,
                     pms_api_key *rec)
{
    char *text = NULL;
    pms_error err = {0};
    int rc = pms_api_key_create(st, account_id, name, role, &text, rec, &err);
    if (rc != PMS_OK)
        fail_msg("cannot create a key: %s", err.message);
    assert_non_null(text);
    return text;
}

static void free_key(char *text)
{
    pms_secure_free(text, strlen(text));
}

static void key_has_the_documented_shape(void **state)
{
    fixture *f = *state;
    pms_api_key rec;
    char *key = new_key(f->st, PMS_DEFAULT_ACCOUNT_ID, "front desk", PMS_ROLE_STAFF, &rec);
    assert_int_equal(strlen(key), PMS_API_KEY_LEN);
    assert_int_equal(strlen(key), 61);
    assert_memory_equal(key, "pmsk_", 5);
    assert_true(all_base62(key + 5, 12));
    assert_int_equal(key[17], '_');
    assert_true(all_base62(key + 18, 43));
    /* the record: the prefix, the hash of the whole text, never the text */
    assert_memory_equal(rec.prefix, key + 5, 12);
    assert_int_equal(strlen(rec.prefix), 12);
    char want_hash[65];
    pms_sha256_hex(key, strlen(key), want_hash);
    assert_string_equal(rec.key_hash, want_hash);
    assert_string_equal(rec.account_id, PMS_DEFAULT_ACCOUNT_ID);
    assert_string_equal(rec.name, "front desk");
    assert_int_equal(rec.role, PMS_ROLE_STAFF);
    assert_true(rec.created_at > 0);
    assert_int_equal(rec.last_used_at, PMS_INSTANT_NONE);
    assert_int_equal(rec.revoked_at, PMS_INSTANT_NONE);
    /* the JSON view shows neither the key nor its hash */
    json_t *j = pms_api_key_to_json(&rec);
    char *text = json_dumps(j, 0);
    assert_null(strstr(text, key + 18));
    assert_null(strstr(text, rec.key_hash));
    assert_non_null(strstr(text, rec.prefix));
    assert_string_equal(json_string_value(json_object_get(j, "role")), "staff");
    assert_true(json_is_true(json_object_get(j, "active")));
    free(text);
    json_decref(j);
    pms_api_key_clear(&rec);
    free_key(key);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void keys_and_prefixes_are_unique(void **state)
{
    fixture *f = *state;
    enum { COUNT = 300 };
    char *keys[COUNT], *prefixes[COUNT];
    assert_int_equal(f->st->ops->begin(f->st, NULL), PMS_OK);
    for (size_t i = 0; i < COUNT; i++) {
        keys[i] = new_key(f->st, PMS_DEFAULT_ACCOUNT_ID, "bulk", PMS_ROLE_AGENT, NULL);
        prefixes[i] = strndup(keys[i] + 5, 12);
    }
    assert_int_equal(f->st->ops->commit(f->st, NULL), PMS_OK);
    qsort(keys, COUNT, sizeof keys[0], compare_strings);
    qsort(prefixes, COUNT, sizeof prefixes[0], compare_strings);
    for (size_t i = 1; i < COUNT; i++) {
        assert_string_not_equal(keys[i - 1], keys[i]);
        assert_string_not_equal(prefixes[i - 1], prefixes[i]);
    }
    /* every character of the alphabet turns up: the draw covers all 62 */
    bool seen[128] = {false};
    for (size_t i = 0; i < COUNT; i++)
        for (const char *p = keys[i] + 5; *p; p++)
            seen[(unsigned char)*p] = true;
    for (const char *p = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"; *p; p++)
        assert_true(seen[(unsigned char)*p]);
    for (size_t i = 0; i < COUNT; i++) {
        free_key(keys[i]);
        free(prefixes[i]);
    }
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(DISTINCT prefix) FROM api_keys"),
                     COUNT);
}

static void only_the_hash_is_stored(void **state)
{
    fixture *f = *state;
    enum { COUNT = 5 };
    char *keys[COUNT];
    for (size_t i = 0; i < COUNT; i++)
        keys[i] = new_key(f->st, PMS_DEFAULT_ACCOUNT_ID, "stored", PMS_ROLE_ADMIN, NULL);
    /* Look in the database, its write-ahead log and its shared memory, open and then closed. */
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            pms_store_close(f->st);
            f->st = tu_open_store(f->dir);
        }
        for (size_t i = 0; i < COUNT; i++) {
            for (size_t s = 0; s < 3; s++) {
                char path[600];
                snprintf(path, sizeof path, "%s%s", f->db_path, suffixes[s]);
                assert_false(tu_file_contains(path, keys[i]));
                assert_false(tu_file_contains(path, keys[i] + 18)); /* the secret alone */
                char half[32];
                snprintf(half, sizeof half, "%.21s", keys[i] + 18);
                assert_false(tu_file_contains(path, half));
            }
        }
    }
    assert_true(tu_file_contains(f->db_path, "stored")); /* the search does find what is there */
    for (size_t i = 0; i < COUNT; i++) {
        /* and the keys still work */
        pms_principal who;
        assert_int_equal(pms_api_key_authenticate(f->st, keys[i], &who, NULL), PMS_OK);
        free_key(keys[i]);
    }
}

static void authenticate_good_revoked_unknown_and_malformed(void **state)
{
    fixture *f = *state;
    char account[PMS_UUID_LEN];
    pms_error err = {0};
    assert_int_equal(pms_account_create(f->st, "Bay Clinic", "Australia/Adelaide", account, &err),
                     PMS_OK);
    pms_api_key rec;
    char *key = new_key(f->st, account, "voice agent", PMS_ROLE_AGENT, &rec);
    pms_principal who;
    assert_int_equal(pms_api_key_authenticate(f->st, key, &who, &err), PMS_OK);
    assert_string_equal(who.account_id, account);
    assert_string_equal(who.key_id, rec.id);
    assert_string_equal(who.key_name, "voice agent");
    assert_int_equal(who.role, PMS_ROLE_AGENT);

    char failures[8][sizeof err.message];
    size_t nfail = 0;
    char *probe = strdup(key);

    /* one character of the secret changed: same prefix, other hash */
    probe[40] = probe[40] == 'a' ? 'b' : 'a';
    memset(&err, 0, sizeof err);
    assert_int_equal(pms_api_key_authenticate(f->st, probe, &who, &err), PMS_ERR_AUTH);
    assert_string_equal(who.account_id, ""); /* nothing is filled in */
    snprintf(failures[nfail++], sizeof failures[0], "%s", err.message);

    /* unknown: a well-formed key nobody issued */
    char *other = strdup(key);
    memcpy(other + 5, "ZZZZZZZZZZZZ", 12);
    assert_int_equal(pms_api_key_authenticate(f->st, other, &who, &err), PMS_ERR_AUTH);
    snprintf(failures[nfail++], sizeof failures[0], "%s", err.message);

    /* malformed */
    char longer[128];
    snprintf(longer, sizeof longer, "%sA", key);
    char bad_char[128];
    snprintf(bad_char, sizeof bad_char, "%s", key);
    bad_char[30] = '-';
    char no_tag[128];
    snprintf(no_tag, sizeof no_tag, "pmsx%s", key + 4);
    const char *malformed[] = {NULL, "", "pmsk_", longer, bad_char, no_tag};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(pms_api_key_authenticate(f->st, malformed[i], &who, &err), PMS_ERR_AUTH);
        if (nfail < 8)
            snprintf(failures[nfail++], sizeof failures[0], "%s", err.message);
    }

    /* revoked: scoped to its account, then gone for good */
    assert_int_equal(pms_api_key_revoke(f->st, PMS_DEFAULT_ACCOUNT_ID, rec.id, &err),
                     PMS_ERR_NOT_FOUND);
    assert_int_equal(pms_api_key_authenticate(f->st, key, &who, &err), PMS_OK);
    assert_int_equal(pms_api_key_revoke(f->st, account, rec.id, &err), PMS_OK);
    assert_int_equal(pms_api_key_revoke(f->st, NULL, rec.id, &err), PMS_OK); /* again: fine */
    memset(&err, 0, sizeof err);
    assert_int_equal(pms_api_key_authenticate(f->st, key, &who, &err), PMS_ERR_AUTH);
    assert_string_equal(failures[0], err.message); /* one message for every refusal */
    for (size_t i = 1; i < nfail; i++)
        assert_string_equal(failures[i], failures[0]);
    /* which says nothing of the key */
    assert_null(strstr(err.message, rec.prefix));
    assert_null(strstr(err.message, "revoked"));
    assert_int_equal(pms_api_key_revoke(f->st, NULL, "no-such-key", &err), PMS_ERR_NOT_FOUND);

    free(probe);
    free(other);
    pms_api_key_clear(&rec);
    free_key(key);
}

static pms_instant last_used(fixture *f, const char *prefix)
{
    pms_api_key k;
    assert_int_equal(f->st->ops->api_key_find_by_prefix(f->st, prefix, &k, NULL), PMS_OK);
    pms_instant t = k.last_used_at;
    pms_api_key_clear(&k);
    return t;
}

static void last_use_is_written_at_most_once_a_minute(void **state)
{
    fixture *f = *state;
    pms_api_key rec;
    char *key = new_key(f->st, PMS_DEFAULT_ACCOUNT_ID, "desk", PMS_ROLE_STAFF, &rec);
    pms_principal who;
    pms_instant before = pms_now();
    assert_int_equal(pms_api_key_authenticate(f->st, key, &who, NULL), PMS_OK);
    pms_instant first = last_used(f, rec.prefix);
    assert_true(first >= before && first <= pms_now());
    /* more requests within the minute: no write (the stamp stays, even when set back 30 s) */
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE api_keys SET last_used_at = %lld WHERE id = '%s'",
             (long long)(first - 30000), rec.id);
    assert_int_equal(tu_sqlite_exec(f->db_path, sql), SQLITE_OK);
    for (int i = 0; i < 20; i++)
        assert_int_equal(pms_api_key_authenticate(f->st, key, &who, NULL), PMS_OK);
    assert_int_equal(last_used(f, rec.prefix), first - 30000);
    /* a minute later: written again */
    snprintf(sql, sizeof sql, "UPDATE api_keys SET last_used_at = %lld WHERE id = '%s'",
             (long long)(pms_now() - 61000), rec.id);
    assert_int_equal(tu_sqlite_exec(f->db_path, sql), SQLITE_OK);
    before = pms_now();
    assert_int_equal(pms_api_key_authenticate(f->st, key, &who, NULL), PMS_OK);
    assert_true(last_used(f, rec.prefix) >= before);
    /* a refused key leaves no trace */
    assert_int_equal(pms_api_key_revoke(f->st, NULL, rec.id, NULL), PMS_OK);
    snprintf(sql, sizeof sql, "UPDATE api_keys SET last_used_at = 5 WHERE id = '%s'", rec.id);
    assert_int_equal(tu_sqlite_exec(f->db_path, sql), SQLITE_OK);
    assert_int_equal(pms_api_key_authenticate(f->st, key, &who, NULL), PMS_ERR_AUTH);
    assert_int_equal(last_used(f, rec.prefix), 5);
    pms_api_key_clear(&rec);
    free_key(key);
}

static void roles_are_named_parsed_and_carried(void **state)
{
    fixture *f = *state;
    const struct {
        pms_role role;
        const char *name;
    } roles[] = {{PMS_ROLE_ADMIN, "admin"}, {PMS_ROLE_STAFF, "staff"}, {PMS_ROLE_AGENT, "agent"}};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(pms_role_name(roles[i].role), roles[i].name);
        pms_role parsed;
        assert_int_equal(pms_role_parse(roles[i].name, &parsed), PMS_OK);
        assert_int_equal(parsed, roles[i].role);
        char *key = new_key(f->st, PMS_DEFAULT_ACCOUNT_ID, roles[i].name, roles[i].role, NULL);
        pms_principal who;
        assert_int_equal(pms_api_key_authenticate(f->st, key, &who, NULL), PMS_OK);
        assert_int_equal(who.role, roles[i].role);
        free_key(key);
    }
    pms_role parsed;
    const char *bad[] = {"Admin", "root", "system", "", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pms_role_parse(bad[i], &parsed), PMS_ERR_PARSE);

    char *text = (char *)"untouched";
    pms_error err = {0};
    assert_int_equal(
        pms_api_key_create(f->st, PMS_DEFAULT_ACCOUNT_ID, "x", (pms_role)7, &text, NULL, &err),
        PMS_ERR_INVALID);
    assert_null(text);
    assert_int_equal(
        pms_api_key_create(f->st, "no-such-account", "x", PMS_ROLE_STAFF, &text, NULL, &err),
        PMS_ERR_NOT_FOUND);
    assert_null(text);
    assert_int_equal(
        pms_api_key_create(f->st, PMS_DEFAULT_ACCOUNT_ID, "", PMS_ROLE_STAFF, &text, NULL, &err),
        PMS_ERR_INVALID);
    assert_int_equal(pms_api_key_create(f->st, PMS_DEFAULT_ACCOUNT_ID, "tab\there", PMS_ROLE_STAFF,
                                        &text, NULL, &err),
                     PMS_ERR_INVALID);
    char long_name[PMS_API_KEY_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(pms_api_key_create(f->st, PMS_DEFAULT_ACCOUNT_ID, long_name, PMS_ROLE_STAFF,
                                        &text, NULL, &err),
                     PMS_ERR_INVALID);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM api_keys"), 3);
}

static void accounts_and_their_keys(void **state)
{
    fixture *f = *state;
    pms_error err = {0};
    char a[PMS_UUID_LEN], b[PMS_UUID_LEN], refused[PMS_UUID_LEN];
    assert_int_equal(pms_account_create(f->st, "Harbour Psychology", NULL, a, &err), PMS_OK);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(pms_account_create(f->st, "Bay Clinic", "Australia/Perth", b, &err), PMS_OK);
    assert_int_equal(pms_account_create(f->st, "Mars Base", "Mars/Olympus_Mons", refused, &err),
                     PMS_ERR_INVALID);
    assert_non_null(strstr(err.message, "timezone"));
    assert_string_equal(refused, "");
    assert_int_equal(pms_account_create(f->st, "", NULL, refused, &err), PMS_ERR_INVALID);
    assert_int_equal(pms_account_create(f->st, "Line\nBreak", NULL, refused, &err),
                     PMS_ERR_INVALID);

    pms_account acct;
    assert_int_equal(pms_account_get(f->st, a, &acct, &err), PMS_OK);
    assert_string_equal(acct.name, "Harbour Psychology");
    assert_null(acct.timezone);
    json_t *j = pms_account_to_json(&acct);
    assert_true(json_is_null(json_object_get(j, "timezone")));
    json_decref(j);
    pms_account_clear(&acct);
    assert_int_equal(pms_account_get(f->st, "missing", &acct, &err), PMS_ERR_NOT_FOUND);

    pms_account_array all = {0};
    assert_int_equal(pms_account_list(f->st, &all, &err), PMS_OK);
    assert_int_equal(all.count, 3); /* the default account and the two */
    assert_string_equal(all.items[0].id, PMS_DEFAULT_ACCOUNT_ID);
    pms_account_array_clear(&all);

    /* keys belong to one account each */
    char *k1 = new_key(f->st, a, "one", PMS_ROLE_ADMIN, NULL);
    char *k2 = new_key(f->st, a, "two", PMS_ROLE_STAFF, NULL);
    char *k3 = new_key(f->st, b, "three", PMS_ROLE_AGENT, NULL);
    pms_api_key_array keys = {0};
    assert_int_equal(pms_api_key_list(f->st, a, &keys, &err), PMS_OK);
    assert_int_equal(keys.count, 2);
    assert_string_equal(keys.items[0].name, "one");
    assert_string_equal(keys.items[1].name, "two");
    pms_api_key_array_clear(&keys);
    assert_int_equal(pms_api_key_list(f->st, NULL, &keys, &err), PMS_OK);
    assert_int_equal(keys.count, 3);
    pms_api_key_array_clear(&keys);
    free_key(k1);
    free_key(k2);
    free_key(k3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(key_has_the_documented_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_and_prefixes_are_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(only_the_hash_is_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(authenticate_good_revoked_unknown_and_malformed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(last_use_is_written_at_most_once_a_minute, setup, teardown),
        cmocka_unit_test_setup_teardown(roles_are_named_parsed_and_carried, setup, teardown),
        cmocka_unit_test_setup_teardown(accounts_and_their_keys, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pms_crypto_cleanup();
    pms_tz_cleanup();
    return failed;
}
