/* pmsctl account add|list */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "pmsync/accounts.h"

static const char help_text[] =
    "Usage:\n"
    "  pmsctl account add NAME [--timezone TZ]\n"
    "      Adds an account (a clinic or group of practices) and prints its id alone on stdout.\n"
    "      TZ is an IANA zone such as Australia/Melbourne; without it the account takes the zone\n"
    "      of its first paired practice.\n"
    "  pmsctl account list [--json]\n"
    "\n"
    "An account owns connections, clinicians, run sheets and API keys ('pmsctl apikey').\n";

static int add(cli *c, int argc, char **argv)
{
    const char *name = NULL, *timezone = NULL;
    for (int i = 0; i < argc; i++) {
        const char *value;
        if (cli_take_option(argc, argv, &i, "timezone", &value)) {
            if (value == NULL)
                return cli_usage_error("account", "--timezone needs a zone");
            timezone = value;
        } else if (strncmp(argv[i], "--", 2) == 0 || name != NULL) {
            return cli_usage_error("account", "unexpected argument '%s'", argv[i]);
        } else {
            name = argv[i];
        }
    }
    if (name == NULL)
        return cli_usage_error("account", "add needs NAME");
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    char id[PMS_UUID_LEN];
    pms_error err = {0};
    if (pms_account_create(st, name, timezone, id, &err) != PMS_OK) {
        cli_report("cannot add the account", &err);
        return err.code == PMS_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    }
    char resource[64];
    snprintf(resource, sizeof resource, "accounts/%s", id);
    if (!cli_audit(c, id, "account.create", resource))
        return EXIT_FAIL;
    printf("%s\n", id);
    return EXIT_OK;
}

static int list(cli *c, int argc, char **argv)
{
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return cli_usage_error("account", "unexpected argument '%s'", argv[i]);
    }
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    pms_account_array all = {0};
    pms_error err = {0};
    if (pms_account_list(st, &all, &err) != PMS_OK) {
        cli_report("cannot list accounts", &err);
        return EXIT_FAIL;
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < all.count; i++)
            json_array_append_new(arr, pms_account_to_json(&all.items[i]));
        cli_print_json(arr);
    } else {
        printf("%-36s  %-24s  %-32s  %s\n", "ID", "CREATED", "TIMEZONE", "NAME");
        for (size_t i = 0; i < all.count; i++) {
            const pms_account *a = &all.items[i];
            char created[PMS_TIME_BUFLEN];
            pms_format_utc(a->created_at, created);
            printf("%-36s  %-24s  %-32s  %s\n", a->id, created, a->timezone ? a->timezone : "-",
                   a->name);
        }
    }
    pms_account_array_clear(&all);
    return EXIT_OK;
}

int cmd_account(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(help_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") == 0)
        return add(c, argc - 2, argv + 2);
    if (strcmp(sub, "list") == 0)
        return list(c, argc - 2, argv + 2);
    return cli_usage_error("account", "unknown subcommand '%s'", sub);
}
