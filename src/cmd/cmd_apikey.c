/* pmsctl apikey create|list|revoke */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "pmsync/accounts.h"

static const char help_text[] =
    "Usage:\n"
    "  pmsctl apikey create --account ACCOUNT_ID --role admin|staff|agent --name NAME\n"
    "      Creates an API key and prints it alone on stdout. It is shown this once and never\n"
    "      stored: only its prefix and a hash are kept.\n"
    "  pmsctl apikey list --account ACCOUNT_ID [--json]\n"
    "      The account's keys: id, prefix, name, role, when created, last used and revoked.\n"
    "  pmsctl apikey revoke KEY_ID\n"
    "      The key stops working at once, for good.\n"
    "\n"
    "Roles: admin manages connections and keys, staff works the run sheet, agent is the voice\n"
    "agent's tools. Callers send the key as 'Authorization: Bearer <key>'.\n";

static int create(cli *c, int argc, char **argv)
{
    const char *account = NULL, *role_name = NULL, *name = NULL;
    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        const char **target = NULL;
        if (cli_take_option(argc, argv, &i, "account", &value))
            target = &account;
        else if (cli_take_option(argc, argv, &i, "role", &value))
            target = &role_name;
        else if (cli_take_option(argc, argv, &i, "name", &value))
            target = &name;
        else
            return cli_usage_error("apikey", "unexpected argument '%s'", argv[i]);
        if (value == NULL)
            return cli_usage_error("apikey", "%s needs a value", argv[i]);
        *target = value;
    }
    if (account == NULL || role_name == NULL || name == NULL)
        return cli_usage_error("apikey", "create needs --account, --role and --name");
    pms_role role;
    if (pms_role_parse(role_name, &role) != PMS_OK)
        return cli_usage_error("apikey", "--role must be admin, staff or agent");
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    char *key = NULL;
    pms_api_key rec;
    pms_error err = {0};
    if (pms_api_key_create(st, account, name, role, &key, &rec, &err) != PMS_OK) {
        cli_report("cannot create the API key", &err);
        return err.code == PMS_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    }
    char resource[80];
    snprintf(resource, sizeof resource, "api_keys/%s", rec.id);
    if (!cli_audit(c, account, "apikey.create", resource)) {
        /* A key whose creation is not on record must not be handed out. */
        pms_api_key_revoke(st, NULL, rec.id, NULL);
        pms_secure_free(key, strlen(key));
        pms_api_key_clear(&rec);
        return EXIT_FAIL;
    }
    printf("%s\n", key);
    fflush(stdout);
    fprintf(stderr,
            "pmsctl: store this key now: it is not shown again and cannot be recovered.\n"
            "  id %s, prefix %s, role %s, account %s\n",
            rec.id, rec.prefix, pms_role_name(rec.role), rec.account_id);
    pms_secure_free(key, strlen(key));
    pms_api_key_clear(&rec);
    return EXIT_OK;
}

static int list(cli *c, int argc, char **argv)
{
    const char *account;
    bool json;
    int usage = cli_take_list_args(argc, argv, "apikey", &account, &json);
    if (usage != EXIT_OK)
        return usage;
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    pms_account acct;
    pms_error err = {0};
    if (pms_account_get(st, account, &acct, &err) != PMS_OK) {
        cli_report("cannot read the account", &err);
        return EXIT_FAIL;
    }
    pms_account_clear(&acct);
    pms_api_key_array keys = {0};
    if (pms_api_key_list(st, account, &keys, &err) != PMS_OK) {
        cli_report("cannot list API keys", &err);
        return EXIT_FAIL;
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < keys.count; i++)
            json_array_append_new(arr, pms_api_key_to_json(&keys.items[i]));
        cli_print_json(arr);
    } else if (keys.count == 0) {
        printf("No API keys. Create one with 'pmsctl apikey create --account %s --role ROLE "
               "--name NAME'.\n",
               account);
    } else {
        printf("%-36s  %-17s  %-5s  %-24s  %-24s  %-7s  %s\n", "ID", "PREFIX", "ROLE", "CREATED",
               "LAST USED", "STATUS", "NAME");
        for (size_t i = 0; i < keys.count; i++) {
            const pms_api_key *k = &keys.items[i];
            char created[PMS_TIME_BUFLEN], used[PMS_TIME_BUFLEN] = "never";
            pms_format_utc(k->created_at, created);
            if (k->last_used_at != PMS_INSTANT_NONE)
                pms_format_utc(k->last_used_at, used);
            printf("%-36s  pmsk_%-12s  %-5s  %-24s  %-24s  %-7s  %s\n", k->id, k->prefix,
                   pms_role_name(k->role), created, used,
                   k->revoked_at == PMS_INSTANT_NONE ? "active" : "revoked", k->name);
        }
    }
    pms_api_key_array_clear(&keys);
    return EXIT_OK;
}

static int revoke(cli *c, int argc, char **argv)
{
    if (argc != 1 || strncmp(argv[0], "--", 2) == 0)
        return cli_usage_error("apikey", "revoke needs KEY_ID");
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    pms_error err = {0};
    if (pms_api_key_revoke(st, NULL, argv[0], &err) != PMS_OK) {
        cli_report("cannot revoke the API key", &err);
        return err.code == PMS_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    }
    char resource[128];
    snprintf(resource, sizeof resource, "api_keys/%.64s", argv[0]);
    if (!cli_audit(c, NULL, "apikey.revoke", resource))
        return EXIT_FAIL;
    printf("Revoked API key %s.\n", argv[0]);
    return EXIT_OK;
}

int cmd_apikey(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(help_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "create") == 0)
        return create(c, argc - 2, argv + 2);
    if (strcmp(sub, "list") == 0)
        return list(c, argc - 2, argv + 2);
    if (strcmp(sub, "revoke") == 0)
        return revoke(c, argc - 2, argv + 2);
    return cli_usage_error("apikey", "unknown subcommand '%s'", sub);
}
