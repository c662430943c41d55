/* pmsctl key generate|rotate|reencrypt|list|retire */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cmd/cli.h"
#include "pmsync/rotation.h"

static const char key_help[] =
    "Usage:\n"
    "  pmsctl key generate [--file PATH]\n"
    "      Writes a new random AES-256 key to a file readable by its owner only (0600). An\n"
    "      existing file is never overwritten.\n"
    "  pmsctl key rotate [--file PATH]\n"
    "      Puts a new random key first in the key file (the old keys stay on the following\n"
    "      lines, so everything sealed with them still opens), then re-encrypts every stored\n"
    "      secret and token with it, one connection at a time. A running pmsd picks the new key\n"
    "      up by itself. With PMSYNC_SECRET_KEY set there is no file to edit: the new key is\n"
    "      printed alone on stdout and the steps to take it into use on stderr.\n"
    "  pmsctl key reencrypt\n"
    "      Re-encrypts every stored value that is not under the primary (first) key.\n"
    "  pmsctl key list [--json]\n"
    "      The keys in use (ids only, never key text) and what each still seals or verifies.\n"
    "  pmsctl key retire KEY_ID [--file PATH] [--force] [--force-audit]\n"
    "      Removes an older key from the key file once nothing needs it. Refused, with the\n"
    "      counts, while stored values are sealed with it (--force drops it anyway: those values\n"
    "      are lost) or while audit records were chained with it (--force-audit drops it\n"
    "      anyway: 'pmsctl audit verify' can no longer check those records).\n"
    "\n"
    "The key file is --file, else $PMSYNC_SECRET_KEY_FILE, else pmsync.key beside the database.\n"
    "PMSYNC_SECRET_KEY, when set, takes precedence: one key, or several separated by commas\n"
    "(the first seals, the others still open).\n";

/* The key file a command edits, or NULL when the keys come from the environment (and no
 * --file was given). *path is a new string. */
static bool key_file_for(const cli *c, const char *file, char **path)
{
    const char *env = getenv("PMSYNC_SECRET_KEY");
    *path = NULL;
    if (file == NULL && env != NULL && env[0] != '\0')
        return true;
    *path = file ? strdup(file) : cli_key_file_path(c);
    if (*path == NULL) {
        cli_error("out of memory");
        return false;
    }
    if (env != NULL && env[0] != '\0')
        cli_error("note: PMSYNC_SECRET_KEY is set and takes precedence over %s for processes "
                  "that have it",
                  *path);
    return true;
}

static int parse_file_only(int argc, char **argv, const char **file)
{
    *file = NULL;
    for (int i = 0; i < argc; i++) {
        const char *value;
        if (!cli_take_option(argc, argv, &i, "file", &value))
            return cli_usage_error("key", "unexpected argument '%s'", argv[i]);
        if (value == NULL)
            return cli_usage_error("key", "--file needs a path");
        *file = value;
    }
    return EXIT_OK;
}

static int generate(cli *c, int argc, char **argv)
{
    const char *file;
    int status = parse_file_only(argc, argv, &file);
    if (status != EXIT_OK)
        return status;
    char *path = file ? strdup(file) : cli_key_file_path(c);
    pms_error err = {0};
    int rc = path ? pms_key_file_generate(path, &err) : PMS_ERR_NOMEM;
    if (rc == PMS_OK)
        printf("Wrote a new key to %s (mode 0600).\n", path);
    else
        cli_report("cannot write the key", &err);
    free(path);
    return rc == PMS_OK ? EXIT_OK : EXIT_FAIL;
}

/* Re-encrypts under the ring's primary key and prints what happened. */
static int reencrypt_with(cli *c, const pms_keyring *ring)
{
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    pms_reencrypt_report report;
    pms_error err = {0};
    int rc = pms_reencrypt_all(st, ring, &report, &err);
    printf("Re-encrypted %ld stored value(s) with key %s; %ld already used it.\n",
           report.reencrypted, pms_keyring_primary_id(ring), report.current);
    if (rc != PMS_OK) {
        cli_report("re-encryption stopped (run 'pmsctl key reencrypt' to finish it)", &err);
        return EXIT_FAIL;
    }
    if (report.failed > 0) {
        cli_error("%ld value(s) could not be opened and were left as they were; first: %s",
                  report.failed, report.first_failure);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int rotate_env(void)
{
    char hex[2 * PMS_KEY_BYTES + 1], id[PMS_KEY_ID_LEN];
    pms_error err = {0};
    if (pms_key_new_hex(hex, id, &err) != PMS_OK) {
        cli_report("cannot make a new key", &err);
        return EXIT_FAIL;
    }
    printf("%s\n", hex);
    fflush(stdout);
    OPENSSL_cleanse(hex, sizeof hex);
    fprintf(stderr,
            "pmsctl: PMSYNC_SECRET_KEY is set, so there is no key file to edit. The new key (id "
            "%s) is above; to take it into use:\n"
            "  1. put it first in PMSYNC_SECRET_KEY, followed by the current value, separated by\n"
            "     a comma: PMSYNC_SECRET_KEY=<new key>,$PMSYNC_SECRET_KEY\n"
            "  2. restart pmsd (and anything else that has the variable) with it\n"
            "  3. run 'pmsctl key reencrypt' with the new value\n"
            "  4. once 'pmsctl key retire OLD_KEY_ID' says nothing needs an old key, drop it from "
            "the list\n",
            id);
    return EXIT_OK;
}

static int rotate(cli *c, int argc, char **argv)
{
    const char *file;
    int status = parse_file_only(argc, argv, &file);
    if (status != EXIT_OK)
        return status;
    char *path = NULL;
    if (!key_file_for(c, file, &path))
        return EXIT_FAIL;
    if (path == NULL)
        return rotate_env();
    pms_store *st = cli_store(c);
    if (st == NULL) {
        free(path);
        return EXIT_FAIL;
    }
    char new_id[PMS_KEY_ID_LEN];
    pms_error err = {0};
    pms_keyring *ring = NULL;
    if (pms_key_file_rotate(path, new_id, &err) != PMS_OK) {
        cli_report("cannot rotate the key", &err);
        free(path);
        return EXIT_FAIL;
    }
    printf("Rotated %s: new primary key %s; the older keys stay on the following lines.\n", path,
           new_id);
    if (pms_keyring_load(NULL, path, false, &ring, &err) != PMS_OK) {
        cli_report("cannot read the rotated key file", &err);
        free(path);
        return EXIT_FAIL;
    }
    free(path);
    /* pmsctl's own ring (audit records) follows the file too. */
    if (c->ring != NULL)
        pms_keyring_reload(c->ring, NULL);
    char resource[64];
    snprintf(resource, sizeof resource, "keys/%s", new_id);
    status = cli_audit(c, NULL, "key.rotate", resource) ? EXIT_OK : EXIT_FAIL;
    if (status == EXIT_OK)
        status = reencrypt_with(c, ring);
    pms_keyring_free(ring);
    return status;
}

static int reencrypt(cli *c, int argc, char **argv)
{
    if (argc > 0)
        return cli_usage_error("key", "unexpected argument '%s'", argv[0]);
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, false, &failed);
    if (failed)
        return EXIT_FAIL;
    if (ring == NULL) {
        cli_error("no encryption key: set PMSYNC_SECRET_KEY or PMSYNC_SECRET_KEY_FILE");
        return EXIT_FAIL;
    }
    char resource[64];
    snprintf(resource, sizeof resource, "keys/%s", pms_keyring_primary_id(ring));
    if (!cli_audit(c, NULL, "key.reencrypt", resource))
        return EXIT_FAIL;
    return reencrypt_with(c, ring);
}

static int list(cli *c, int argc, char **argv)
{
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return cli_usage_error("key", "unexpected argument '%s'", argv[i]);
    }
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, false, &failed);
    if (failed)
        return EXIT_FAIL;
    if (ring == NULL) {
        cli_error("no encryption key: set PMSYNC_SECRET_KEY or PMSYNC_SECRET_KEY_FILE");
        return EXIT_FAIL;
    }
    json_t *arr = json_array();
    if (!json)
        printf("%-16s  %-7s  %13s  %13s  %s\n", "KEY ID", "USE", "SEALED VALUES", "AUDIT RECORDS",
               "AUDIT HEAD");
    char id[PMS_KEY_ID_LEN];
    for (size_t i = 0; pms_keyring_key_id_at(ring, i, id); i++) {
        pms_key_usage u;
        pms_error err = {0};
        if (pms_key_usage_count(st, id, &u, &err) != PMS_OK) {
            cli_report("cannot count what the keys seal", &err);
            json_decref(arr);
            return EXIT_FAIL;
        }
        if (json)
            json_array_append_new(
                arr, json_pack("{s:s, s:b, s:I, s:I, s:b}", "keyId", id, "primary", i == 0,
                               "sealedValues", (json_int_t)u.sealed_values, "auditRecords",
                               (json_int_t)u.audit_records, "auditHead", u.audit_head));
        else
            printf("%-16s  %-7s  %13ld  %13lld  %s\n", id, i == 0 ? "primary" : "older",
                   u.sealed_values, u.audit_records, u.audit_head ? "signed" : "-");
    }
    if (json)
        cli_print_json(arr);
    else
        json_decref(arr);
    return EXIT_OK;
}

static void print_refusal(const char *key_id, const pms_key_usage *u, unsigned flags)
{
    cli_error("key %s is still needed; not retired:", key_id);
    if (u->sealed_values > 0 && !(flags & PMS_RETIRE_FORCE))
        fprintf(stderr,
                "  %ld stored value(s) are sealed with it: run 'pmsctl key reencrypt' first "
                "(--force drops it anyway, and those values can never be opened again)\n",
                u->sealed_values);
    if (u->audit_records > 0 && !(flags & PMS_RETIRE_FORCE_AUDIT))
        fprintf(stderr,
                "  %lld audit record(s) were chained with it: verifying them needs it "
                "(--force-audit drops it anyway, and 'pmsctl audit verify' can no longer check "
                "them)\n",
                u->audit_records);
}

static int retire(cli *c, int argc, char **argv)
{
    const char *file = NULL, *key_id = NULL;
    unsigned flags = 0;
    for (int i = 0; i < argc; i++) {
        const char *value;
        if (strcmp(argv[i], "--force") == 0) {
            flags |= PMS_RETIRE_FORCE;
        } else if (strcmp(argv[i], "--force-audit") == 0) {
            flags |= PMS_RETIRE_FORCE_AUDIT;
        } else if (cli_take_option(argc, argv, &i, "file", &value)) {
            if (value == NULL)
                return cli_usage_error("key", "--file needs a path");
            file = value;
        } else if (strncmp(argv[i], "--", 2) == 0 || key_id != NULL) {
            return cli_usage_error("key", "unexpected argument '%s'", argv[i]);
        } else {
            key_id = argv[i];
        }
    }
    if (key_id == NULL)
        return cli_usage_error("key", "retire needs KEY_ID ('pmsctl key list' shows them)");
    if (strlen(key_id) != PMS_KEY_ID_LEN - 1 ||
        strspn(key_id, "0123456789abcdef") != PMS_KEY_ID_LEN - 1)
        return cli_usage_error("key", "KEY_ID is 16 hex digits, as 'pmsctl key list' shows");
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    char *path = NULL;
    if (!key_file_for(c, file, &path))
        return EXIT_FAIL;
    pms_key_usage u;
    pms_error err = {0};
    if (path == NULL) {
        /* Keys from the environment: say whether it is safe to drop it there. */
        bool failed = false;
        const pms_keyring *ring = cli_keyring(c, false, &failed);
        if (failed)
            return EXIT_FAIL;
        const char *primary = pms_keyring_primary_id(ring);
        if (primary != NULL && strcmp(primary, key_id) == 0) {
            cli_error("key %s is the primary key (first in PMSYNC_SECRET_KEY); rotate to a new "
                      "key before retiring it",
                      key_id);
            return EXIT_FAIL;
        }
        if (pms_key_usage_count(st, key_id, &u, &err) != PMS_OK) {
            cli_report("cannot count what the key seals", &err);
            return EXIT_FAIL;
        }
        bool needed = (u.sealed_values > 0 && !(flags & PMS_RETIRE_FORCE)) ||
                      (u.audit_records > 0 && !(flags & PMS_RETIRE_FORCE_AUDIT));
        if (needed) {
            print_refusal(key_id, &u, flags);
            return EXIT_FAIL;
        }
        if (u.audit_head) {
            cli_error("the audit log's head is signed with key %s: run 'pmsctl key reencrypt' "
                      "(it writes an audit record under the primary key) first",
                      key_id);
            return EXIT_FAIL;
        }
        printf("Nothing needs key %s any more: remove it from PMSYNC_SECRET_KEY (and restart "
               "the processes that have it).\n",
               key_id);
        return EXIT_OK;
    }
    int rc = pms_key_retire(st, path, key_id, flags, &u, &err);
    bool recorded = false;
    if (rc == PMS_ERR_CONFLICT && u.audit_head &&
        !(u.sealed_values > 0 && !(flags & PMS_RETIRE_FORCE)) &&
        !(u.audit_records > 0 && !(flags & PMS_RETIRE_FORCE_AUDIT))) {
        /* Only the head still names the key: a record under the primary signs it anew. */
        char resource[64];
        snprintf(resource, sizeof resource, "keys/%s", key_id);
        if (!cli_audit(c, NULL, "key.retire", resource)) {
            free(path);
            return EXIT_FAIL;
        }
        recorded = true;
        memset(&err, 0, sizeof err);
        rc = pms_key_retire(st, path, key_id, flags, &u, &err);
    }
    if (rc == PMS_ERR_CONFLICT && !u.audit_head) {
        print_refusal(key_id, &u, flags);
        free(path);
        return EXIT_FAIL;
    }
    if (rc != PMS_OK) {
        cli_report("cannot retire the key", &err);
        free(path);
        return EXIT_FAIL;
    }
    if (u.sealed_values > 0)
        cli_error("warning: %ld stored value(s) were sealed with key %s and can never be opened "
                  "again; enter those connections' secrets anew",
                  u.sealed_values, key_id);
    if (u.audit_records > 0)
        cli_error("warning: %lld audit record(s) were chained with key %s; 'pmsctl audit "
                  "verify' can no longer check them",
                  u.audit_records, key_id);
    printf("Retired key %s from %s.\n", key_id, path);
    free(path);
    if (!recorded) {
        char resource[64];
        snprintf(resource, sizeof resource, "keys/%s", key_id);
        if (!cli_audit(c, NULL, "key.retire", resource))
            return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cmd_key(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(key_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "generate") == 0)
        return generate(c, argc - 2, argv + 2);
    if (strcmp(sub, "rotate") == 0)
        return rotate(c, argc - 2, argv + 2);
    if (strcmp(sub, "reencrypt") == 0)
        return reencrypt(c, argc - 2, argv + 2);
    if (strcmp(sub, "list") == 0)
        return list(c, argc - 2, argv + 2);
    if (strcmp(sub, "retire") == 0)
        return retire(c, argc - 2, argv + 2);
    return cli_usage_error("key", "unknown subcommand '%s'", sub);
}
