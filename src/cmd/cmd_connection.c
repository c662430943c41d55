/* pmsctl connection add|list|show|update|remove|test */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"

static const char help_text[] =
    "Usage:\n"
    "  pmsctl connection add --pms PMS --name NAME [--base-url URL] [--timezone TZ]\n"
    "                        [--account ACCOUNT_ID] [--set KEY=VALUE]... [OPTIONS]\n"
    "      Adds a connection to the account (default $PMSYNC_ACCOUNT, else the default\n"
    "      account) and prints its id alone on stdout.\n"
    "  pmsctl connection list [--json]\n"
    "  pmsctl connection show CONNECTION_ID [--json]\n"
    "  pmsctl connection update CONNECTION_ID [--name NAME] [--base-url URL] [--timezone TZ]\n"
    "                        [--set KEY=VALUE]... [OPTIONS]\n"
    "  pmsctl connection remove CONNECTION_ID\n"
    "  pmsctl connection test CONNECTION_ID\n"
    "\n"
    "Settings (--set) depend on the PMS: 'pmsctl pms list' shows them. Secret settings are\n"
    "stored encrypted and never shown again. --set KEY= clears an optional setting.\n"
    "\n"
    "Options:\n"
    "  --sync-frequency MINUTES   how often pmsd syncs the connection (default 15)\n"
    "  --all-appointments         sync every appointment, not only telehealth ones\n"
    "  --telehealth-only          sync telehealth appointments only (the default)\n"
    "  --skip-unmapped            practitioners without a mapping are not synced\n"
    "  --create-unmapped          practitioners without a mapping get a clinician (the default)\n"
    "  --enable / --disable       turn scheduled syncing on or off\n"
    "  --json                     machine-readable output\n";

enum {
    OPT_PMS = 1000,
    OPT_NAME,
    OPT_BASE_URL,
    OPT_TIMEZONE,
    OPT_SET,
    OPT_FREQUENCY,
    OPT_ALL,
    OPT_TELEHEALTH_ONLY,
    OPT_SKIP_UNMAPPED,
    OPT_CREATE_UNMAPPED,
    OPT_ENABLE,
    OPT_DISABLE,
    OPT_JSON,
    OPT_ACCOUNT,
};

static const struct option long_options[] = {
    {"pms", required_argument, NULL, OPT_PMS},
    {"name", required_argument, NULL, OPT_NAME},
    {"base-url", required_argument, NULL, OPT_BASE_URL},
    {"timezone", required_argument, NULL, OPT_TIMEZONE},
    {"set", required_argument, NULL, OPT_SET},
    {"sync-frequency", required_argument, NULL, OPT_FREQUENCY},
    {"all-appointments", no_argument, NULL, OPT_ALL},
    {"telehealth-only", no_argument, NULL, OPT_TELEHEALTH_ONLY},
    {"skip-unmapped", no_argument, NULL, OPT_SKIP_UNMAPPED},
    {"create-unmapped", no_argument, NULL, OPT_CREATE_UNMAPPED},
    {"enable", no_argument, NULL, OPT_ENABLE},
    {"disable", no_argument, NULL, OPT_DISABLE},
    {"json", no_argument, NULL, OPT_JSON},
    {"account", required_argument, NULL, OPT_ACCOUNT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct parsed {
    const char *pms;
    const char *account;
    pms_connection_fields fields;
    pms_setting_value *settings;
    size_t setting_count;
    bool json;
    int positional_count;
    char **positional;
} parsed;

static int parse(const char *command, int argc, char **argv, parsed *p)
{
    memset(p, 0, sizeof *p);
    p->fields.sync_enabled = -1;
    p->fields.sync_telehealth_only = -1;
    p->fields.skip_unmapped = -1;
    p->settings = calloc((size_t)argc + 1, sizeof *p->settings);
    if (p->settings == NULL)
        return EXIT_FAIL;
    optind = 0;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (opt) {
        case OPT_PMS:
            p->pms = optarg;
            break;
        case OPT_NAME:
            p->fields.display_name = optarg;
            break;
        case OPT_BASE_URL:
            p->fields.base_url = optarg;
            break;
        case OPT_TIMEZONE:
            p->fields.timezone = optarg;
            break;
        case OPT_SET: {
            char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg)
                return cli_usage_error(command, "--set needs KEY=VALUE, got '%s'", optarg);
            *eq = '\0';
            p->settings[p->setting_count].key = optarg;
            p->settings[p->setting_count].value = eq + 1;
            p->setting_count++;
            break;
        }
        case OPT_FREQUENCY: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 1 || v > 1440)
                return cli_usage_error(command, "--sync-frequency must be 1 to 1440 minutes");
            p->fields.sync_frequency_minutes = (int)v;
            break;
        }
        case OPT_ALL:
            p->fields.sync_telehealth_only = 0;
            break;
        case OPT_TELEHEALTH_ONLY:
            p->fields.sync_telehealth_only = 1;
            break;
        case OPT_SKIP_UNMAPPED:
            p->fields.skip_unmapped = 1;
            break;
        case OPT_CREATE_UNMAPPED:
            p->fields.skip_unmapped = 0;
            break;
        case OPT_ENABLE:
            p->fields.sync_enabled = 1;
            break;
        case OPT_DISABLE:
            p->fields.sync_enabled = 0;
            break;
        case OPT_JSON:
            p->json = true;
            break;
        case OPT_ACCOUNT:
            p->account = optarg;
            break;
        default:
            return cli_usage_error(command, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    p->positional = argv + optind;
    p->positional_count = argc - optind;
    return EXIT_OK;
}

static bool settings_have_secret(const char *pms_type, const parsed *p)
{
    const pms_adapter_ops *ops = pms_adapter_find(pms_type);
    for (size_t i = 0; ops && i < p->setting_count; i++) {
        const pms_setting_def *d = pms_adapter_setting(ops, p->settings[i].key);
        if (d && d->secret && p->settings[i].value[0])
            return true;
    }
    return false;
}

static int add(cli *c, parsed *p)
{
    if (p->positional_count != 0)
        return cli_usage_error("connection", "add takes no positional arguments");
    if (p->pms == NULL)
        return cli_usage_error("connection", "add needs --pms");
    if (p->fields.display_name == NULL)
        return cli_usage_error("connection", "add needs --name");
    if (p->account)
        c->account_id = p->account;
    pms_store *st = cli_store(c);
    if (st == NULL || !cli_account_exists(c))
        return EXIT_FAIL;
    bool failed = false;
    const pms_keyring *ring = NULL;
    if (settings_have_secret(p->pms, p)) {
        ring = cli_keyring(c, true, &failed);
        if (failed)
            return EXIT_FAIL;
    }
    char id[PMS_UUID_LEN];
    pms_error err = {0};
    if (pms_connection_create(st, ring, c->account_id, p->pms, &p->fields, p->settings,
                              p->setting_count, id, &err) != PMS_OK) {
        cli_report("cannot add the connection", &err);
        return err.code == PMS_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    }
    printf("%s\n", id);
    return EXIT_OK;
}

static void print_connection_line(const pms_connection *conn)
{
    char when[PMS_TIME_BUFLEN] = "never";
    if (conn->last_sync_at != PMS_INSTANT_NONE)
        pms_format_utc(conn->last_sync_at, when);
    printf("%-36s  %-11s  %-28.28s  %-8s  %s\n", conn->id, conn->pms_type, conn->display_name,
           conn->last_sync_status ? conn->last_sync_status : "-", when);
}

static int list(cli *c, parsed *p)
{
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    pms_connection_list all = {0};
    pms_error err = {0};
    if (st->ops->connection_list(st, NULL, &all, &err) != PMS_OK) {
        cli_report("cannot list connections", &err);
        return EXIT_FAIL;
    }
    if (p->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < all.count; i++)
            json_array_append_new(arr, pms_connection_to_json(&all.items[i]));
        cli_print_json(arr);
    } else if (all.count == 0) {
        printf("No connections. Add one with 'pmsctl connection add --pms PMS --name NAME'.\n");
    } else {
        printf("%-36s  %-11s  %-28s  %-8s  %s\n", "ID", "PMS", "NAME", "STATUS", "LAST SYNC");
        for (size_t i = 0; i < all.count; i++)
            print_connection_line(&all.items[i]);
    }
    pms_connection_list_clear(&all);
    return EXIT_OK;
}

static int show(cli *c, parsed *p)
{
    if (p->positional_count != 1)
        return cli_usage_error("connection", "show needs CONNECTION_ID");
    pms_connection conn;
    if (!cli_connection(c, p->positional[0], &conn))
        return EXIT_FAIL;
    json_t *o = pms_connection_to_json(&conn);
    if (p->json) {
        cli_print_json(o);
    } else {
        const char *key;
        json_t *value;
        json_object_foreach(o, key, value)
        {
            char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
            printf("%-22s %s\n", key, text ? text : "?");
            free(text);
        }
        json_decref(o);
    }
    pms_connection_clear(&conn);
    return EXIT_OK;
}

static int update(cli *c, parsed *p)
{
    if (p->positional_count != 1)
        return cli_usage_error("connection", "update needs CONNECTION_ID");
    if (p->pms)
        return cli_usage_error("connection", "the PMS of a connection cannot be changed");
    pms_connection conn;
    if (!cli_connection(c, p->positional[0], &conn))
        return EXIT_FAIL;
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, settings_have_secret(conn.pms_type, p), &failed);
    pms_connection_clear(&conn);
    if (failed)
        return EXIT_FAIL;
    pms_error err = {0};
    if (pms_connection_update(c->store, ring, p->positional[0], &p->fields, p->settings,
                              p->setting_count, &err) != PMS_OK) {
        cli_report("cannot update the connection", &err);
        return err.code == PMS_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    }
    printf("Updated %s.\n", p->positional[0]);
    return EXIT_OK;
}

static int remove_connection(cli *c, parsed *p)
{
    if (p->positional_count != 1)
        return cli_usage_error("connection", "remove needs CONNECTION_ID");
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    pms_error err = {0};
    if (st->ops->connection_delete(st, p->positional[0], &err) != PMS_OK) {
        cli_report("cannot remove the connection", &err);
        return EXIT_FAIL;
    }
    printf("Removed %s and its synced appointments.\n", p->positional[0]);
    return EXIT_OK;
}

static int test(cli *c, parsed *p)
{
    if (p->positional_count != 1)
        return cli_usage_error("connection", "test needs CONNECTION_ID");
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, false, &failed);
    if (failed)
        return EXIT_FAIL;
    pms_health health;
    pms_error err = {0};
    pms_session_options opts = cli_session_options();
    int rc = pms_connection_test(st, ring, p->positional[0], &opts, &health, &err);
    if (p->json) {
        json_t *o = json_pack("{s:b, s:I, s:s}", "ok", rc == PMS_OK, "latencyMs",
                              (json_int_t)health.latency_ms, "message",
                              rc == PMS_OK ? health.message : err.message);
        cli_print_json(o);
    } else if (rc == PMS_OK) {
        printf("Connected (%ld ms).\n", health.latency_ms);
    } else {
        cli_report("connection test failed", &err);
    }
    return rc == PMS_OK ? EXIT_OK : EXIT_FAIL;
}

int cmd_connection(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(help_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    parsed p;
    int status = parse("connection", argc - 1, argv + 1, &p);
    if (status == EXIT_OK) {
        if (strcmp(sub, "add") == 0)
            status = add(c, &p);
        else if (strcmp(sub, "list") == 0)
            status = list(c, &p);
        else if (strcmp(sub, "show") == 0)
            status = show(c, &p);
        else if (strcmp(sub, "update") == 0)
            status = update(c, &p);
        else if (strcmp(sub, "remove") == 0)
            status = remove_connection(c, &p);
        else if (strcmp(sub, "test") == 0)
            status = test(c, &p);
        else
            status = cli_usage_error("connection", "unknown subcommand '%s'", sub);
    }
    free(p.settings);
    return status;
}
