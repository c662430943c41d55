/* pmsctl's security commands as an operator runs them (PMSCTL_BIN): accounts, API keys shown
 * once and alone, the audit log's verify and export, key rotation and retirement, with a key
 * file and with PMSYNC_SECRET_KEY; exit codes, --help, and no secret in any error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_proc.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;
    char db_path[512];
    char env_db[600];
    char env_key[200]; /* "PMSYNC_SECRET_KEY=..." or "" */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->db_path, sizeof f->db_path, "%s/pmsync.db", f->dir);
    snprintf(f->env_db, sizeof f->env_db, "PMSYNC_DB=%s", f->db_path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return strdup("");
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (n > 0 && fread(buf, 1, (size_t)n, in) != (size_t)n)
        buf[0] = '\0';
    fclose(in);
    return buf;
}

/* Runs pmsctl with args (NULL-terminated); returns its exit status; *out and *err (when not
 * NULL) get what it printed (caller frees). */
static int pmsctl(fixture *f, char **out, char **err, const char *const *args)
{
    const char *bin = getenv("PMSCTL_BIN");
    assert_non_null(bin);
    const char *argv[32] = {"pmsctl"};
    int argc = 1;
    for (int i = 0; args[i] && argc < 31; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/run.out", f->dir);
    snprintf(err_path, sizeof err_path, "%s/run.err", f->dir);
    static char asan[512], lsan[512];
    snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s",
             getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "");
    snprintf(lsan, sizeof lsan, "LSAN_OPTIONS=%s",
             getenv("LSAN_OPTIONS") ? getenv("LSAN_OPTIONS") : "");
    const char *envp[] = {
        f->env_db, "PATH=/usr/bin:/bin", asan, lsan, f->env_key[0] ? f->env_key : NULL, NULL};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(127);
        tu_execve(bin, argv, envp);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char *o = slurp(out_path), *e = slurp(err_path);
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs pmsctl, requires exit 0, returns stdout (caller frees). */
static char *ok(fixture *f, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int status = pmsctl(f, &out, &err, args);
    if (status != 0)
        fail_msg("pmsctl %s %s exited %d: %s", args[0], args[1] ? args[1] : "", status, err);
    free(err);
    return out;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
}

static void today(char out[16])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

static void every_command_has_help(void **state)
{
    fixture *f = *state;
    const char *commands[] = {"account", "apikey", "audit", "key"};
    for (size_t i = 0; i < 4; i++) {
        char *out = NULL;
        assert_int_equal(pmsctl(f, &out, NULL, (const char *[]){commands[i], "--help", NULL}), 0);
        assert_non_null(strstr(out, "Usage"));
        free(out);
        assert_int_equal(pmsctl(f, NULL, NULL, (const char *[]){commands[i], NULL}), 2);
        assert_int_equal(pmsctl(f, NULL, NULL, (const char *[]){commands[i], "frobnicate", NULL}),
                         2);
    }
    char *out = ok(f, (const char *[]){"--help", NULL});
    assert_non_null(strstr(out, "apikey"));
    assert_non_null(strstr(out, "audit"));
    free(out);
}

static void an_api_key_is_printed_alone_once(void **state)
{
    fixture *f = *state;
    char *account = ok(f, (const char *[]){"account", "add", "Bay Clinic", "--timezone",
                                           "Australia/Adelaide", NULL});
    chomp(account);
    assert_int_equal(strlen(account), 36); /* the id alone */
    char *out = NULL, *err = NULL;
    assert_int_equal(pmsctl(f, &out, &err,
                            (const char *[]){"apikey", "create", "--account", account, "--role",
                                             "agent", "--name", "voice agent", NULL}),
                     0);
    /* stdout: the key and a newline, nothing else; stderr: the warning, not the secret */
    assert_int_equal(strlen(out), 62);
    assert_int_equal(out[61], '\n');
    assert_memory_equal(out, "pmsk_", 5);
    out[61] = '\0';
    assert_non_null(strstr(err, "not shown again"));
    assert_null(strstr(err, out + 18));
    char secret[44];
    snprintf(secret, sizeof secret, "%s", out + 18);
    char prefix[13];
    snprintf(prefix, sizeof prefix, "%.12s", out + 5);
    free(err);

    /* listed by prefix, never by key or hash */
    char *list = ok(f, (const char *[]){"apikey", "list", "--account", account, NULL});
    assert_non_null(strstr(list, prefix));
    assert_null(strstr(list, secret));
    free(list);
    list = ok(f, (const char *[]){"apikey", "list", "--account", account, "--json", NULL});
    json_t *keys = json_loads(list, 0, NULL);
    assert_int_equal(json_array_size(keys), 1);
    json_t *k = json_array_get(keys, 0);
    assert_string_equal(json_string_value(json_object_get(k, "role")), "agent");
    assert_null(json_object_get(k, "keyHash"));
    char key_id[64];
    snprintf(key_id, sizeof key_id, "%s", json_string_value(json_object_get(k, "id")));
    json_decref(keys);
    assert_null(strstr(list, secret));
    free(list);
    /* nowhere in the database */
    char path[600];
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", f->db_path, suffixes[i]);
        assert_false(tu_file_contains(path, secret));
    }

    /* usage errors are 2, failures 1; the key is never echoed back */
    assert_int_equal(pmsctl(f, NULL, NULL,
                            (const char *[]){"apikey", "create", "--account", account, "--role",
                                             "root", "--name", "x", NULL}),
                     2);
    assert_int_equal(pmsctl(f, NULL, NULL,
                            (const char *[]){"apikey", "create", "--account", "nope", "--role",
                                             "staff", "--name", "x", NULL}),
                     1);
    assert_int_equal(pmsctl(f, NULL, &err, (const char *[]){"apikey", "revoke", out, NULL}), 2);
    assert_null(strstr(err, secret));
    free(err);
    assert_int_equal(pmsctl(f, NULL, NULL, (const char *[]){"apikey", "revoke", "nope", NULL}), 1);
    char *revoked = ok(f, (const char *[]){"apikey", "revoke", key_id, NULL});
    free(revoked);
    list = ok(f, (const char *[]){"apikey", "list", "--account", account, NULL});
    assert_non_null(strstr(list, "revoked"));
    free(list);
    free(out);
    free(account);
}

static void audit_verify_and_export(void **state)
{
    fixture *f = *state;
    char *account = ok(f, (const char *[]){"account", "add", "Harbour", NULL});
    chomp(account);
    char *key = ok(f, (const char *[]){"apikey", "create", "--account", account, "--role", "staff",
                                       "--name", "desk", NULL});
    free(key);
    char *out = ok(f, (const char *[]){"audit", "verify", NULL});
    assert_non_null(strstr(out, "intact: 2 record"));
    assert_non_null(strstr(out, "Head: seq 2, hash "));
    free(out);
    out = ok(f, (const char *[]){"audit", "verify", "--json", NULL});
    json_t *report = json_loads(out, 0, NULL);
    assert_true(json_is_true(json_object_get(report, "intact")));
    assert_int_equal(json_integer_value(json_object_get(report, "verified")), 2);
    json_decref(report);
    free(out);

    /* the day's records, --to included; the export records itself first */
    char day[16];
    today(day);
    out = ok(f, (const char *[]){"audit", "export", "--from", day, "--to", day, NULL});
    int lines = 0;
    for (char *p = out; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 3);
    assert_non_null(strstr(out, "\"action\":\"account.create\""));
    assert_non_null(strstr(out, "\"action\":\"apikey.create\""));
    assert_non_null(strstr(out, "\"action\":\"audit.export\""));
    free(out);
    out = ok(f, (const char *[]){"audit", "export", "--to", "2000-01-01", NULL});
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(
        pmsctl(f, NULL, NULL, (const char *[]){"audit", "export", "--from", "x", NULL}), 2);

    /* tampered: exit 1 and the first problem named */
    assert_int_equal(tu_sqlite_exec(f->db_path,
                                    "DROP TRIGGER audit_log_no_update;"
                                    "UPDATE audit_log SET resource = 'x' WHERE seq = 2"),
                     SQLITE_OK);
    char *err = NULL;
    assert_int_equal(pmsctl(f, &out, &err, (const char *[]){"audit", "verify", NULL}), 1);
    assert_non_null(strstr(out, "NOT intact"));
    assert_non_null(strstr(out, "seq 2"));
    free(out);
    free(err);
    free(account);
}

static const char *const gentu_add[] = {"connection", "add",
                                        "--pms",      "gentu",
                                        "--name",     "Yarra",
                                        "--set",      "client_id=c1",
                                        "--set",      "client_secret=s3cr3t-value",
                                        "--set",      "app_id=a1",
                                        NULL};

static json_t *key_list(fixture *f)
{
    char *out = ok(f, (const char *[]){"key", "list", "--json", NULL});
    json_t *keys = json_loads(out, 0, NULL);
    assert_non_null(keys);
    free(out);
    return keys;
}

static void rotate_and_retire_with_a_key_file(void **state)
{
    fixture *f = *state;
    char *id = ok(f, gentu_add);
    free(id);
    id = ok(f, (const char *[]){"account", "add", "Bay Clinic", NULL}); /* an audit record */
    free(id);
    json_t *keys = key_list(f);
    assert_int_equal(json_array_size(keys), 1);
    char old_id[32];
    snprintf(old_id, sizeof old_id, "%s",
             json_string_value(json_object_get(json_array_get(keys, 0), "keyId")));
    json_decref(keys);

    char *out = ok(f, (const char *[]){"key", "rotate", NULL});
    assert_non_null(strstr(out, "Re-encrypted 1 stored value"));
    free(out);
    keys = key_list(f);
    assert_int_equal(json_array_size(keys), 2);
    json_t *primary = json_array_get(keys, 0), *older = json_array_get(keys, 1);
    assert_true(json_is_true(json_object_get(primary, "primary")));
    assert_int_equal(json_integer_value(json_object_get(primary, "sealedValues")), 1);
    assert_string_equal(json_string_value(json_object_get(older, "keyId")), old_id);
    assert_int_equal(json_integer_value(json_object_get(older, "sealedValues")), 0);
    assert_true(json_integer_value(json_object_get(older, "auditRecords")) > 0);
    char new_id[32];
    snprintf(new_id, sizeof new_id, "%s", json_string_value(json_object_get(primary, "keyId")));
    json_decref(keys);

    /* refused while audit records need it; the primary never */
    char *err = NULL;
    assert_int_equal(pmsctl(f, NULL, &err, (const char *[]){"key", "retire", old_id, NULL}), 1);
    assert_non_null(strstr(err, "audit record"));
    free(err);
    assert_int_equal(
        pmsctl(f, NULL, NULL, (const char *[]){"key", "retire", new_id, "--force-audit", NULL}), 1);
    out = ok(f, (const char *[]){"key", "retire", old_id, "--force-audit", NULL});
    assert_non_null(strstr(out, "Retired"));
    free(out);
    keys = key_list(f);
    assert_int_equal(json_array_size(keys), 1);
    json_decref(keys);
    /* those records can no longer be checked: verify says so */
    assert_int_equal(pmsctl(f, &out, NULL, (const char *[]){"audit", "verify", NULL}), 1);
    assert_non_null(strstr(out, "not in the key ring"));
    free(out);
}

static void rotate_with_the_key_in_the_environment(void **state)
{
    fixture *f = *state;
    const char first[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    snprintf(f->env_key, sizeof f->env_key, "PMSYNC_SECRET_KEY=%s", first);
    char *id = ok(f, gentu_add);
    free(id);
    char *out = NULL, *err = NULL;
    assert_int_equal(pmsctl(f, &out, &err, (const char *[]){"key", "rotate", NULL}), 0);
    chomp(out);
    assert_int_equal(strlen(out), 64); /* the new key alone */
    assert_non_null(strstr(err, "PMSYNC_SECRET_KEY"));
    assert_null(strstr(err, first)); /* the current key is not echoed */
    char path[600];
    snprintf(path, sizeof path, "%s/pmsync.key", f->dir);
    assert_int_equal(access(path, F_OK), -1); /* no file was written */
    snprintf(f->env_key, sizeof f->env_key, "PMSYNC_SECRET_KEY=%s,%s", out, first);
    free(out);
    free(err);
    out = ok(f, (const char *[]){"key", "reencrypt", NULL});
    assert_non_null(strstr(out, "Re-encrypted 1 stored value"));
    free(out);
    json_t *keys = key_list(f);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(keys, 1), "sealedValues")),
                     0);
    char old_id[32];
    snprintf(old_id, sizeof old_id, "%s",
             json_string_value(json_object_get(json_array_get(keys, 1), "keyId")));
    json_decref(keys);
    /* with the environment, retire only says whether the key can go: never the primary */
    char new_id[32];
    keys = key_list(f);
    snprintf(new_id, sizeof new_id, "%s",
             json_string_value(json_object_get(json_array_get(keys, 0), "keyId")));
    json_decref(keys);
    assert_int_equal(pmsctl(f, NULL, NULL, (const char *[]){"key", "retire", new_id, NULL}), 1);
    out = ok(f, (const char *[]){"key", "retire", old_id, NULL});
    assert_non_null(strstr(out, "remove it from PMSYNC_SECRET_KEY"));
    free(out);
    /* a bad list is refused without echoing it */
    snprintf(f->env_key, sizeof f->env_key, "PMSYNC_SECRET_KEY=%s,hunter2hunter2", first);
    assert_int_equal(pmsctl(f, NULL, &err, (const char *[]){"key", "list", NULL}), 1);
    assert_null(strstr(err, "hunter2"));
    assert_null(strstr(err, first));
    free(err);
}

int main(void)
{
    if (getenv("PMSCTL_BIN") == NULL) {
        fprintf(stderr, "PMSCTL_BIN is not set\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_command_has_help, setup, teardown),
        cmocka_unit_test_setup_teardown(an_api_key_is_printed_alone_once, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_verify_and_export, setup, teardown),
        cmocka_unit_test_setup_teardown(rotate_and_retire_with_a_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(rotate_with_the_key_in_the_environment, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
