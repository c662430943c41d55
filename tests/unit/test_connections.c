/* Connection management: settings checked against the adapter's declarations, secrets sealed
 * and never shown, updates that keep or replace secrets, and limits from the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/connections.h"
#include "pmsync/ratelimit.h"
#include "pmsync/tz.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;
    pms_store *st;
    pms_keyring *ring;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    f->st = tu_open_store(f->dir);
    unsigned char key[PMS_KEY_BYTES];
    memset(key, 7, sizeof key);
    assert_int_equal(pms_keyring_from_raw(key, &f->ring, NULL), PMS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pms_keyring_free(f->ring);
    pms_store_close(f->st);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const pms_connection_fields named = {
    .display_name = "Yarra Valley Medical",
    .sync_enabled = -1,
    .sync_telehealth_only = -1,
    .skip_unmapped = -1,
};

static const pms_setting_value gentu_settings[] = {
    {"client_id", "client-123"},
    {"client_secret", "s3cr3t-value-xyz"},
    {"app_id", "app-9"},
};

static int create(fixture *f, const pms_connection_fields *fields, const pms_setting_value *s,
                  size_t n, char id[PMS_UUID_LEN], pms_error *err)
{
    return pms_connection_create(f->st, f->ring, NULL, "gentu", fields, s, n, id, err);
}

static void settings_are_checked_against_the_adapter(void **state)
{
    fixture *f = *state;
    char id[PMS_UUID_LEN];
    pms_error err = {0};
    assert_int_equal(pms_connection_create(f->st, f->ring, NULL, "nope", &named, NULL, 0, id, &err),
                     PMS_ERR_INVALID);
    assert_non_null(strstr(err.message, "gentu"));

    /* a required setting missing */
    assert_int_equal(create(f, &named, gentu_settings, 2, id, &err), PMS_ERR_INVALID);
    assert_non_null(strstr(err.message, "app_id"));

    /* an unknown setting */
    pms_setting_value unknown[] = {
        gentu_settings[0], gentu_settings[1], gentu_settings[2], {"colour", "blue"}};
    assert_int_equal(create(f, &named, unknown, 4, id, &err), PMS_ERR_INVALID);
    assert_non_null(strstr(err.message, "colour"));

    /* a numeric setting out of range */
    pms_setting_value bad_page[] = {
        gentu_settings[0], gentu_settings[1], gentu_settings[2], {"retry_attempts", "99"}};
    assert_int_equal(create(f, &named, bad_page, 4, id, &err), PMS_ERR_INVALID);
    assert_non_null(strstr(err.message, "retry_attempts"));

    /* a zone that is not a zone, a URL that is not a URL, no name */
    pms_connection_fields bad = named;
    bad.timezone = "Mars/Olympus_Mons";
    assert_int_equal(create(f, &bad, gentu_settings, 3, id, &err), PMS_ERR_INVALID);
    assert_non_null(strstr(err.message, "timezone"));
    bad = named;
    bad.base_url = "ftp://example.com";
    assert_int_equal(create(f, &bad, gentu_settings, 3, id, &err), PMS_ERR_INVALID);
    assert_non_null(strstr(err.message, "base_url"));
    bad = named;
    bad.display_name = "";
    assert_int_equal(create(f, &bad, gentu_settings, 3, id, &err), PMS_ERR_INVALID);

    /* none of those were stored */
    pms_connection_list all = {0};
    assert_int_equal(f->st->ops->connection_list(f->st, NULL, &all, &err), PMS_OK);
    assert_int_equal(all.count, 0);
    pms_connection_list_clear(&all);

    /* a secret needs a key */
    assert_int_equal(
        pms_connection_create(f->st, NULL, NULL, "gentu", &named, gentu_settings, 3, id, &err),
        PMS_ERR_CONFIG);
}

static void secrets_are_sealed_and_never_shown(void **state)
{
    fixture *f = *state;
    char id[PMS_UUID_LEN];
    pms_error err = {0};
    pms_connection_fields fields = named;
    fields.timezone = "Australia/Melbourne";
    assert_int_equal(create(f, &fields, gentu_settings, 3, id, &err), PMS_OK);
    pms_connection c;
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, &err), PMS_OK);
    assert_true(pms_is_envelope(c.secrets_sealed));
    assert_null(strstr(c.secrets_sealed, "s3cr3t"));
    assert_null(json_object_get(c.settings, "client_secret"));
    assert_string_equal(json_string_value(json_object_get(c.settings, "client_id")), "client-123");
    assert_string_equal(c.timezone, "Australia/Melbourne");
    assert_true(c.sync_telehealth_only); /* the plan's default */
    assert_int_equal(c.sync_frequency_minutes, 15);

    json_t *shown = pms_connection_to_json(&c);
    char *text = json_dumps(shown, 0);
    assert_null(strstr(text, "s3cr3t"));
    assert_non_null(strstr(text, "\"secretsSet\": {\"client_secret\": true}"));
    free(text);
    json_decref(shown);

    json_t *settings = NULL;
    assert_int_equal(pms_connection_settings(&c, f->ring, &settings, &err), PMS_OK);
    assert_string_equal(json_string_value(json_object_get(settings, "client_secret")),
                        "s3cr3t-value-xyz");
    json_decref(settings);

    /* Another key cannot open them, and says so without echoing anything secret. */
    unsigned char other_key[PMS_KEY_BYTES];
    memset(other_key, 9, sizeof other_key);
    pms_keyring *other = NULL;
    assert_int_equal(pms_keyring_from_raw(other_key, &other, NULL), PMS_OK);
    assert_int_equal(pms_connection_settings(&c, other, &settings, &err), PMS_ERR_CRYPTO);
    assert_null(strstr(err.message, "s3cr3t"));
    pms_keyring_free(other);

    /* A sealed value moved to another row does not open there. */
    free(c.id);
    c.id = strdup("another-connection");
    assert_int_equal(pms_connection_settings(&c, f->ring, &settings, &err), PMS_ERR_CRYPTO);
    pms_connection_clear(&c);
}

static void updates_keep_or_replace_secrets(void **state)
{
    fixture *f = *state;
    char id[PMS_UUID_LEN];
    pms_error err = {0};
    assert_int_equal(create(f, &named, gentu_settings, 3, id, &err), PMS_OK);
    assert_int_equal(
        f->st->ops->connection_set_token(f->st, id, "pmsenc:v1:x:y", NULL, pms_now() + 1000, &err),
        PMS_OK);

    /* A plain setting changes without the key; the secret and the token stay. */
    pms_setting_value page[] = {{"page_size", "50"}};
    assert_int_equal(pms_connection_update(f->st, NULL, id, NULL, page, 1, &err), PMS_OK);
    pms_connection c;
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, &err), PMS_OK);
    assert_string_equal(json_string_value(json_object_get(c.settings, "page_size")), "50");
    assert_non_null(c.access_token_sealed);
    char *sealed_before = strdup(c.secrets_sealed);
    pms_connection_clear(&c);

    /* A required setting cannot be cleared; an optional one can. */
    pms_setting_value clear_required[] = {{"app_id", ""}};
    assert_int_equal(pms_connection_update(f->st, f->ring, id, NULL, clear_required, 1, &err),
                     PMS_ERR_INVALID);
    pms_setting_value clear_page[] = {{"page_size", ""}};
    assert_int_equal(pms_connection_update(f->st, f->ring, id, NULL, clear_page, 1, &err), PMS_OK);

    /* A new secret is sealed afresh and discards the stored token. */
    pms_setting_value secret[] = {{"client_secret", "rotated-secret"}};
    assert_int_equal(pms_connection_update(f->st, NULL, id, NULL, secret, 1, &err), PMS_ERR_CONFIG);
    assert_int_equal(pms_connection_update(f->st, f->ring, id, NULL, secret, 1, &err), PMS_OK);
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, &err), PMS_OK);
    assert_string_not_equal(c.secrets_sealed, sealed_before);
    assert_null(c.access_token_sealed);
    assert_null(json_object_get(c.settings, "page_size"));
    json_t *settings = NULL;
    assert_int_equal(pms_connection_settings(&c, f->ring, &settings, &err), PMS_OK);
    assert_string_equal(json_string_value(json_object_get(settings, "client_secret")),
                        "rotated-secret");
    assert_string_equal(json_string_value(json_object_get(settings, "client_id")), "client-123");
    json_decref(settings);
    pms_connection_clear(&c);
    free(sealed_before);

    /* Fields: frequency bounds, telehealth-only, unmapped practitioners. */
    pms_connection_fields fields = {.sync_enabled = 0,
                                    .sync_frequency_minutes = 5,
                                    .sync_telehealth_only = 0,
                                    .skip_unmapped = 1};
    assert_int_equal(pms_connection_update(f->st, NULL, id, &fields, NULL, 0, &err), PMS_OK);
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, &err), PMS_OK);
    assert_false(c.sync_enabled);
    assert_int_equal(c.sync_frequency_minutes, 5);
    assert_false(c.sync_telehealth_only);
    assert_true(c.skip_unmapped);
    pms_connection_clear(&c);
    fields = (pms_connection_fields){.sync_enabled = -1,
                                     .sync_frequency_minutes = 5000,
                                     .sync_telehealth_only = -1,
                                     .skip_unmapped = -1};
    assert_int_equal(pms_connection_update(f->st, NULL, id, &fields, NULL, 0, &err),
                     PMS_ERR_INVALID);
    assert_non_null(strstr(err.message, "sync_frequency_minutes"));
}

/* The set-up wizard's step: none for connections made without one (pmsctl), one of the four
 * steps otherwise, and "" when set-up is complete. */
static void setup_step_is_kept_and_checked(void **state)
{
    fixture *f = *state;
    char id[PMS_UUID_LEN];
    pms_error err = {0};
    assert_int_equal(create(f, &named, gentu_settings, 3, id, &err), PMS_OK);
    pms_connection c;
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, NULL), PMS_OK);
    assert_null(c.setup_step);
    json_t *j = pms_connection_to_json(&c);
    assert_true(json_is_null(json_object_get(j, "setupStep")));
    json_decref(j);
    pms_connection_clear(&c);

    pms_connection_fields step = named;
    step.setup_step = "practitioners";
    assert_int_equal(pms_connection_update(f->st, f->ring, id, &step, NULL, 0, &err), PMS_OK);
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, NULL), PMS_OK);
    assert_string_equal(c.setup_step, "practitioners");
    j = pms_connection_to_json(&c);
    assert_string_equal(json_string_value(json_object_get(j, "setupStep")), "practitioners");
    json_decref(j);
    pms_connection_clear(&c);
    /* Other changes keep it. */
    pms_connection_fields rename = named;
    rename.display_name = "Renamed";
    assert_int_equal(pms_connection_update(f->st, f->ring, id, &rename, NULL, 0, &err), PMS_OK);
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, NULL), PMS_OK);
    assert_string_equal(c.setup_step, "practitioners");
    pms_connection_clear(&c);

    step.setup_step = "done";
    assert_int_equal(pms_connection_update(f->st, f->ring, id, &step, NULL, 0, &err),
                     PMS_ERR_INVALID);
    assert_string_equal(err.field, "setupStep");
    step.setup_step = "";
    assert_int_equal(pms_connection_update(f->st, f->ring, id, &step, NULL, 0, &err), PMS_OK);
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, NULL), PMS_OK);
    assert_null(c.setup_step);
    pms_connection_clear(&c);

    step.setup_step = "connect";
    assert_int_equal(create(f, &step, gentu_settings, 3, id, &err), PMS_OK);
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, NULL), PMS_OK);
    assert_string_equal(c.setup_step, "connect");
    pms_connection_clear(&c);
}

static void pms_wide_limits_come_from_the_environment(void **state)
{
    (void)state;
    unsetenv("PMSYNC_RATE_LIMIT_GENTU");
    pms_rate_limits l = pms_limits_from_env("gentu");
    assert_int_equal(l.per_minute, 0);
    setenv("PMSYNC_RATE_LIMIT_GENTU", "600/20000", 1);
    l = pms_limits_from_env("gentu");
    assert_int_equal(l.per_minute, 600);
    assert_int_equal(l.per_hour, 20000);
    setenv("PMSYNC_RATE_LIMIT_GENTU", "120", 1);
    l = pms_limits_from_env("gentu");
    assert_int_equal(l.per_minute, 120);
    assert_int_equal(l.per_hour, 0);
    setenv("PMSYNC_RATE_LIMIT_GENTU", "lots", 1);
    l = pms_limits_from_env("gentu");
    assert_int_equal(l.per_minute, 0);
    unsetenv("PMSYNC_RATE_LIMIT_GENTU");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(settings_are_checked_against_the_adapter, setup, teardown),
        cmocka_unit_test_setup_teardown(secrets_are_sealed_and_never_shown, setup, teardown),
        cmocka_unit_test_setup_teardown(updates_keep_or_replace_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(setup_step_is_kept_and_checked, setup, teardown),
        cmocka_unit_test(pms_wide_limits_come_from_the_environment),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pms_ratelimit_cleanup();
    pms_tz_cleanup();
    pms_crypto_cleanup();
    return failed;
}
