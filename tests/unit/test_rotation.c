/* Key rotation without downtime: the key file rewritten with a new primary, every sealed value
 * moved to it, rings loaded before the rotation still opening everything (and sealing with the
 * new key) after it, readers undisturbed while rings reload, and retirement refused while a key
 * is still needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmsync/audit.h"
#include "pmsync/connections.h"
#include "pmsync/rotation.h"
#include "pmsync/tz.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;
    char db_path[512];
    char key_path[512];
    pms_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->db_path, sizeof f->db_path, "%s/pmsync.db", f->dir);
    snprintf(f->key_path, sizeof f->key_path, "%s/pmsync.key", f->dir);
    f->st = tu_open_store(f->dir);
    assert_int_equal(pms_key_file_generate(f->key_path, NULL), PMS_OK);
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

static pms_keyring *load(const fixture *f)
{
    pms_keyring *ring = NULL;
    pms_error err = {0};
    if (pms_keyring_load(NULL, f->key_path, false, &ring, &err) != PMS_OK)
        fail_msg("cannot load the key file: %s", err.message);
    return ring;
}

static const pms_connection_fields named = {
    .display_name = "Yarra Valley Medical",
    .sync_enabled = -1,
    .sync_telehealth_only = -1,
    .skip_unmapped = -1,
};

static void secret_of(int i, char *out, size_t size)
{
    snprintf(out, size, "client-secret-%d", i);
}

static void token_of(int i, const char *kind, char *out, size_t size)
{
    snprintf(out, size, "%s-token-%d", kind, i);
}

static char *seal_for(const pms_keyring *ring, const char *id, const char *field, const char *text)
{
    char *aad = pms_connection_aad(id, field);
    char *sealed = NULL;
    assert_int_equal(pms_seal(ring, aad, text, strlen(text), &sealed, NULL), PMS_OK);
    free(aad);
    return sealed;
}

/* A Gentu connection whose secret and tokens are sealed with ring. */
static void add_connection(fixture *f, const pms_keyring *ring, int i, char id[PMS_UUID_LEN])
{
    char secret[64], access[64], refresh[64];
    secret_of(i, secret, sizeof secret);
    token_of(i, "access", access, sizeof access);
    token_of(i, "refresh", refresh, sizeof refresh);
    pms_setting_value settings[] = {
        {"client_id", "client-123"}, {"client_secret", secret}, {"app_id", "app-9"}};
    pms_error err = {0};
    if (pms_connection_create(f->st, ring, NULL, "gentu", &named, settings, 3, id, &err) != PMS_OK)
        fail_msg("cannot add a connection: %s", err.message);
    char *a = seal_for(ring, id, "access_token", access);
    char *r = seal_for(ring, id, "refresh_token", refresh);
    assert_int_equal(f->st->ops->connection_set_token(f->st, id, a, r, pms_now() + 3600000, &err),
                     PMS_OK);
    free(a);
    free(r);
}

static void assert_opens(const pms_keyring *ring, const char *id, const char *field,
                         const char *envelope, const char *want)
{
    char *aad = pms_connection_aad(id, field);
    char *plain = NULL;
    size_t len = 0;
    pms_error err = {0};
    if (pms_open(ring, aad, envelope, &plain, &len, &err) != PMS_OK)
        fail_msg("%s does not open: %s", field, err.message);
    assert_string_equal(plain, want);
    pms_secure_free(plain, len);
    free(aad);
}

/* Opens every sealed value of every connection with ring and checks it. */
static void assert_everything_opens(fixture *f, const pms_keyring *ring, int count)
{
    pms_connection_list all = {0};
    assert_int_equal(f->st->ops->connection_list(f->st, NULL, &all, NULL), PMS_OK);
    assert_int_equal(all.count, count);
    for (size_t n = 0; n < all.count; n++) {
        const pms_connection *c = &all.items[n];
        int i = -1;
        json_t *settings = NULL;
        pms_error err = {0};
        if (pms_connection_settings(c, ring, &settings, &err) != PMS_OK)
            fail_msg("secrets do not open: %s", err.message);
        const char *secret = json_string_value(json_object_get(settings, "client_secret"));
        assert_non_null(secret);
        assert_int_equal(sscanf(secret, "client-secret-%d", &i), 1);
        json_decref(settings);
        char want[64];
        token_of(i, "access", want, sizeof want);
        assert_opens(ring, c->id, "access_token", c->access_token_sealed, want);
        token_of(i, "refresh", want, sizeof want);
        assert_opens(ring, c->id, "refresh_token", c->refresh_token_sealed, want);
    }
    pms_connection_list_clear(&all);
}

/* How many sealed values in the database name the key. */
static long sealed_under(fixture *f, const char *key_id)
{
    pms_key_usage u;
    assert_int_equal(pms_key_usage_count(f->st, key_id, &u, NULL), PMS_OK);
    return u.sealed_values;
}

static void rotation_moves_every_value_to_the_new_key(void **state)
{
    fixture *f = *state;
    pms_keyring *writer = load(f);
    pms_keyring *reader = load(f); /* a pmsd started before the rotation */
    pms_keyring *sealer = load(f); /* another one, which will seal before it opens anything */
    char old_id[PMS_KEY_ID_LEN];
    snprintf(old_id, sizeof old_id, "%s", pms_keyring_primary_id(writer));
    enum { CONNECTIONS = 3 };
    for (int i = 0; i < CONNECTIONS; i++) {
        char id[PMS_UUID_LEN];
        add_connection(f, writer, i, id);
    }
    assert_int_equal(sealed_under(f, old_id), 3 * CONNECTIONS);

    char new_id[PMS_KEY_ID_LEN];
    pms_error err = {0};
    assert_int_equal(pms_key_file_rotate(f->key_path, new_id, &err), PMS_OK);
    assert_string_not_equal(new_id, old_id);
    /* the file: private, the new key first, the old one after it */
    struct stat sb;
    assert_int_equal(stat(f->key_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    pms_keyring *rotated = load(f);
    assert_int_equal(pms_keyring_count(rotated), 2);
    char id[PMS_KEY_ID_LEN];
    assert_true(pms_keyring_key_id_at(rotated, 0, id));
    assert_string_equal(id, new_id);
    assert_true(pms_keyring_key_id_at(rotated, 1, id));
    assert_string_equal(id, old_id);
    assert_true(tu_file_contains(f->key_path, new_id)); /* "# key id <id>" on each line */
    /* nothing left behind beside it */
    char tmp_glob_probe[600];
    snprintf(tmp_glob_probe, sizeof tmp_glob_probe, "%s.lock", f->key_path);
    assert_int_equal(access(tmp_glob_probe, F_OK), 0);

    pms_reencrypt_report report;
    assert_int_equal(pms_reencrypt_all(f->st, rotated, &report, &err), PMS_OK);
    assert_int_equal(report.values, 3 * CONNECTIONS);
    assert_int_equal(report.reencrypted, 3 * CONNECTIONS);
    assert_int_equal(report.current, 0);
    assert_int_equal(report.failed, 0);
    assert_int_equal(sealed_under(f, old_id), 0);
    assert_int_equal(sealed_under(f, new_id), 3 * CONNECTIONS);
    assert_everything_opens(f, rotated, CONNECTIONS);
    /* running it again changes nothing */
    assert_int_equal(pms_reencrypt_all(f->st, rotated, &report, &err), PMS_OK);
    assert_int_equal(report.reencrypted, 0);
    assert_int_equal(report.current, 3 * CONNECTIONS);

    /* The ring loaded before the rotation knows only the old key... */
    assert_int_equal(pms_keyring_count(reader), 1);
    /* ...and still opens everything: it reloads when it meets the new key id. */
    assert_everything_opens(f, reader, CONNECTIONS);
    assert_int_equal(pms_keyring_count(reader), 2);
    assert_string_equal(pms_keyring_primary_id(reader), new_id);
    /* The other one seals with the new key straight away (the file changed under it). */
    char *envelope = NULL;
    assert_int_equal(pms_seal(sealer, "aad", "new value", 9, &envelope, &err), PMS_OK);
    char envelope_id[PMS_KEY_ID_LEN];
    assert_int_equal(pms_envelope_key_id(envelope, envelope_id, NULL), PMS_OK);
    assert_string_equal(envelope_id, new_id);
    free(envelope);
    /* An explicit reload does the same. */
    assert_int_equal(pms_keyring_reload(writer, &err), PMS_OK);
    assert_string_equal(pms_keyring_primary_id(writer), new_id);

    pms_keyring_free(rotated);
    pms_keyring_free(sealer);
    pms_keyring_free(reader);
    pms_keyring_free(writer);
}

static void an_interrupted_run_is_finished_by_the_next(void **state)
{
    fixture *f = *state;
    pms_keyring *ring = load(f);
    char a[PMS_UUID_LEN], b[PMS_UUID_LEN];
    add_connection(f, ring, 1, a);
    add_connection(f, ring, 2, b);
    char new_id[PMS_KEY_ID_LEN];
    assert_int_equal(pms_key_file_rotate(f->key_path, new_id, NULL), PMS_OK);
    assert_int_equal(pms_keyring_reload(ring, NULL), PMS_OK);
    /* one connection done by hand (as if the run stopped after it), one value damaged */
    pms_connection c;
    assert_int_equal(f->st->ops->connection_get(f->st, a, &c, NULL), PMS_OK);
    char *secrets = seal_for(ring, a, "secrets", "{\"client_secret\":\"client-secret-1\"}");
    char *access = seal_for(ring, a, "access_token", "access-token-1");
    char *refresh = seal_for(ring, a, "refresh_token", "refresh-token-1");
    assert_int_equal(f->st->ops->connection_set_sealed(f->st, a, secrets, access, refresh, NULL),
                     PMS_OK);
    free(secrets);
    free(access);
    free(refresh);
    pms_connection_clear(&c);
    assert_int_equal(f->st->ops->connection_get(f->st, b, &c, NULL), PMS_OK);
    char *moved = seal_for(ring, a, "access_token", "belongs to a"); /* another row's aad */
    char *old_refresh = strdup(c.refresh_token_sealed);
    assert_int_equal(
        f->st->ops->connection_set_sealed(f->st, b, c.secrets_sealed, moved, old_refresh, NULL),
        PMS_OK);
    pms_connection_clear(&c);
    /* the moved value was sealed under the new key already: counted current, not opened */
    pms_reencrypt_report report;
    assert_int_equal(pms_reencrypt_all(f->st, ring, &report, NULL), PMS_OK);
    assert_int_equal(report.values, 6);
    assert_int_equal(report.current, 4);
    assert_int_equal(report.reencrypted, 2);
    assert_int_equal(report.failed, 0);
    /* a value under the old key that does not open is left alone and reported by column */
    char *bad = strdup(old_refresh);
    size_t n = strlen(bad);
    bad[n - 5] = bad[n - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(f->st->ops->connection_set_sealed(f->st, b, NULL, NULL, bad, NULL), PMS_OK);
    assert_int_equal(pms_reencrypt_all(f->st, ring, &report, NULL), PMS_OK);
    assert_int_equal(report.failed, 1);
    assert_int_equal(report.reencrypted, 0);
    assert_non_null(strstr(report.first_failure, b));
    assert_non_null(strstr(report.first_failure, "refresh_token"));
    free(bad);
    free(moved);
    free(old_refresh);
    pms_keyring_free(ring);
}

typedef struct reader_ctx {
    const pms_keyring *ring;
    const char *old_envelope;
    atomic_int failures;
    atomic_bool stop;
} reader_ctx;

static void *read_while_rotating(void *arg)
{
    reader_ctx *r = arg;
    for (int i = 0; i < 400 && !atomic_load(&r->stop); i++) {
        char *plain = NULL, *sealed = NULL;
        size_t len = 0;
        if (pms_open(r->ring, "aad", r->old_envelope, &plain, &len, NULL) != PMS_OK ||
            strcmp(plain, "sealed before") != 0)
            atomic_fetch_add(&r->failures, 1);
        pms_secure_free(plain, len);
        plain = NULL;
        if (pms_seal(r->ring, "aad", "round trip", 10, &sealed, NULL) != PMS_OK ||
            pms_open(r->ring, "aad", sealed, &plain, &len, NULL) != PMS_OK ||
            strcmp(plain, "round trip") != 0)
            atomic_fetch_add(&r->failures, 1);
        pms_secure_free(plain, len);
        free(sealed);
        (void)pms_keyring_primary_id(r->ring);
    }
    return NULL;
}

static void readers_keep_working_while_the_ring_reloads(void **state)
{
    fixture *f = *state;
    pms_keyring *ring = load(f);
    char *old_envelope = NULL;
    assert_int_equal(pms_seal(ring, "aad", "sealed before", 13, &old_envelope, NULL), PMS_OK);
    reader_ctx ctx = {.ring = ring, .old_envelope = old_envelope};
    atomic_init(&ctx.failures, 0);
    atomic_init(&ctx.stop, false);
    enum { READERS = 4, ROTATIONS = 6 };
    pthread_t threads[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, read_while_rotating, &ctx), 0);
    for (int i = 0; i < ROTATIONS; i++) {
        assert_int_equal(pms_key_file_rotate(f->key_path, NULL, NULL), PMS_OK);
        if (i % 2 == 0)
            assert_int_equal(pms_keyring_reload(ring, NULL), PMS_OK);
        usleep(2000);
    }
    for (int i = 0; i < READERS; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&ctx.failures), 0);
    assert_int_equal(pms_keyring_reload(ring, NULL), PMS_OK);
    assert_int_equal(pms_keyring_count(ring), 1 + ROTATIONS);
    free(old_envelope);
    pms_keyring_free(ring);
}

static void append_audit(fixture *f, const pms_keyring *ring, int n)
{
    for (int i = 0; i < n; i++) {
        pms_audit_event e = {.actor_role = "system", .action = "sync.write", .resource = "r"};
        pms_error err = {0};
        if (pms_audit_append(f->st, ring, &e, &err) != PMS_OK)
            fail_msg("append failed: %s", err.message);
    }
}

static void retire_is_refused_while_the_key_is_needed(void **state)
{
    fixture *f = *state;
    pms_keyring *ring = load(f);
    char old_id[PMS_KEY_ID_LEN];
    snprintf(old_id, sizeof old_id, "%s", pms_keyring_primary_id(ring));
    char a[PMS_UUID_LEN], b[PMS_UUID_LEN];
    add_connection(f, ring, 1, a);
    add_connection(f, ring, 2, b);
    append_audit(f, ring, 3);

    pms_error err = {0};
    pms_key_usage usage;
    /* the primary cannot be retired, a key the file does not hold is not found */
    assert_int_equal(
        pms_key_retire(f->st, f->key_path, old_id, PMS_RETIRE_FORCE_AUDIT, &usage, &err),
        PMS_ERR_INVALID);
    assert_int_equal(pms_key_retire(f->st, f->key_path, "0123456789abcdef", 0, &usage, &err),
                     PMS_ERR_NOT_FOUND);

    char new_id[PMS_KEY_ID_LEN];
    assert_int_equal(pms_key_file_rotate(f->key_path, new_id, &err), PMS_OK);
    assert_int_equal(pms_keyring_reload(ring, &err), PMS_OK);

    /* everything needs the old key: refused with the counts */
    assert_int_equal(pms_key_retire(f->st, f->key_path, old_id, 0, &usage, &err), PMS_ERR_CONFLICT);
    assert_int_equal(usage.sealed_values, 6);
    assert_int_equal(usage.audit_records, 3);
    assert_true(usage.audit_head);
    /* one record under the new primary signs the head with it */
    append_audit(f, ring, 1);
    assert_int_equal(pms_key_retire(f->st, f->key_path, old_id, 0, &usage, &err), PMS_ERR_CONFLICT);
    assert_false(usage.audit_head);
    assert_non_null(strstr(err.message, "6 stored value"));
    /* forcing past the sealed values still stops at the audit records */
    assert_int_equal(pms_key_retire(f->st, f->key_path, old_id, PMS_RETIRE_FORCE, &usage, &err),
                     PMS_ERR_CONFLICT);
    assert_non_null(strstr(err.message, "3 audit record"));
    /* re-encrypted: the values no longer need it, the audit records still do */
    pms_reencrypt_report report;
    assert_int_equal(pms_reencrypt_all(f->st, ring, &report, &err), PMS_OK);
    assert_int_equal(pms_key_retire(f->st, f->key_path, old_id, 0, &usage, &err), PMS_ERR_CONFLICT);
    assert_int_equal(usage.sealed_values, 0);
    assert_int_equal(usage.audit_records, 3);
    pms_keyring *check = load(f);
    assert_int_equal(pms_keyring_count(check), 2); /* nothing was removed */
    pms_keyring_free(check);

    /* forced for the audit records: gone from the file; values open, those records do not
     * verify any more */
    assert_int_equal(
        pms_key_retire(f->st, f->key_path, old_id, PMS_RETIRE_FORCE_AUDIT, &usage, &err), PMS_OK);
    pms_keyring *after = load(f);
    assert_int_equal(pms_keyring_count(after), 1);
    assert_false(pms_keyring_has_key(after, old_id));
    struct stat sb;
    assert_int_equal(stat(f->key_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_everything_opens(f, after, 2);
    pms_audit_report r;
    assert_int_equal(pms_audit_verify(f->st, after, &r, &err), PMS_OK);
    assert_false(r.intact);
    assert_int_equal(r.first_problem, PMS_AUDIT_MISSING_KEY);
    assert_int_equal(r.unverifiable, 3);
    assert_int_equal(r.verified, 1);
    assert_true(r.head_ok);
    /* a running process drops the retired key when it reloads */
    assert_int_equal(pms_keyring_reload(ring, &err), PMS_OK);
    assert_int_equal(pms_keyring_count(ring), 1);
    pms_keyring_free(after);
    pms_keyring_free(ring);
}

/* Voice credentials are sealed values too: counted, re-sealed by a rotation, and holding back
 * the key's retirement until then. */
static void voice_secrets_are_resealed_and_hold_back_retirement(void **state)
{
    fixture *f = *state;
    pms_keyring *ring = load(f);
    char old_id[PMS_KEY_ID_LEN];
    snprintf(old_id, sizeof old_id, "%s", pms_keyring_primary_id(ring));
    char aad[128];
    pms_error err = {0};
    pms_voice_settings v = {.account_id = (char *)PMS_DEFAULT_ACCOUNT_ID, .updated_at = 1};
    pms_voice_aad(PMS_DEFAULT_ACCOUNT_ID, "bearer", aad, sizeof aad);
    assert_int_equal(pms_seal(ring, aad, "bearer-secret-0123456789", 24, &v.bearer_sealed, &err),
                     PMS_OK);
    pms_voice_aad(PMS_DEFAULT_ACCOUNT_ID, "hmac", aad, sizeof aad);
    assert_int_equal(pms_seal(ring, aad, "hmac-secret-0123456789ab", 24, &v.hmac_sealed, &err),
                     PMS_OK);
    assert_int_equal(f->st->ops->voice_settings_put(f->st, &v, &err), PMS_OK);
    free(v.bearer_sealed);
    free(v.hmac_sealed);
    assert_int_equal(sealed_under(f, old_id), 2);

    char new_id[PMS_KEY_ID_LEN];
    assert_int_equal(pms_key_file_rotate(f->key_path, new_id, &err), PMS_OK);
    assert_int_equal(pms_keyring_reload(ring, &err), PMS_OK);
    append_audit(f, ring, 1); /* the head under the new key */
    pms_key_usage usage;
    assert_int_equal(pms_key_retire(f->st, f->key_path, old_id, 0, &usage, &err), PMS_ERR_CONFLICT);
    assert_int_equal(usage.sealed_values, 2);
    assert_non_null(strstr(err.message, "2 stored value"));

    pms_reencrypt_report report;
    assert_int_equal(pms_reencrypt_all(f->st, ring, &report, &err), PMS_OK);
    assert_int_equal(report.reencrypted, 2);
    assert_int_equal(report.failed, 0);
    assert_int_equal(sealed_under(f, old_id), 0);
    assert_int_equal(sealed_under(f, new_id), 2);
    assert_int_equal(pms_key_retire(f->st, f->key_path, old_id, 0, &usage, &err), PMS_OK);
    /* they open with the new key alone */
    pms_keyring *after = load(f);
    pms_voice_settings got = {0};
    assert_int_equal(f->st->ops->voice_settings_get(f->st, PMS_DEFAULT_ACCOUNT_ID, &got, &err),
                     PMS_OK);
    char *plain = NULL;
    size_t len = 0;
    pms_voice_aad(PMS_DEFAULT_ACCOUNT_ID, "hmac", aad, sizeof aad);
    assert_int_equal(pms_open(after, aad, got.hmac_sealed, &plain, &len, &err), PMS_OK);
    assert_int_equal(len, 24);
    assert_memory_equal(plain, "hmac-secret-0123456789ab", 24);
    pms_secure_free(plain, len);
    pms_voice_settings_clear(&got);
    pms_keyring_free(after);
    pms_keyring_free(ring);
}

static void key_files_that_cannot_be_rotated(void **state)
{
    fixture *f = *state;
    pms_error err = {0};
    char path[600];
    snprintf(path, sizeof path, "%s/missing.key", f->dir);
    assert_int_equal(pms_key_file_rotate(path, NULL, &err), PMS_ERR_CONFIG);
    snprintf(path, sizeof path, "%s/link.key", f->dir);
    assert_int_equal(symlink(f->key_path, path), 0);
    assert_int_equal(pms_key_file_rotate(path, NULL, &err), PMS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "symbolic link"));
    assert_int_equal(chmod(f->key_path, 0644), 0);
    assert_int_equal(pms_key_file_rotate(f->key_path, NULL, &err), PMS_ERR_CONFIG);
    assert_int_equal(chmod(f->key_path, 0600), 0);
    pms_keyring *ring = load(f);
    assert_int_equal(pms_keyring_count(ring), 1); /* untouched */
    pms_keyring_free(ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rotation_moves_every_value_to_the_new_key, setup, teardown),
        cmocka_unit_test_setup_teardown(an_interrupted_run_is_finished_by_the_next, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(readers_keep_working_while_the_ring_reloads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(retire_is_refused_while_the_key_is_needed, setup, teardown),
        cmocka_unit_test_setup_teardown(voice_secrets_are_resealed_and_hold_back_retirement, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(key_files_that_cannot_be_rotated, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pms_crypto_cleanup();
    pms_tz_cleanup();
    return failed;
}
