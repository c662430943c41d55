/* pmsctl: the same operations as pmsd, from a terminal. */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "pmsync/http.h"
#include "pmsync/log.h"
#include "pmsync/ratelimit.h"
#include "pmsync/tz.h"

static const struct {
    const char *name;
    cli_command_fn fn;
    const char *summary;
} commands[] = {
    {"connection", cmd_connection, "add, list, show, update, remove or test PMS connections"},
    {"pair", cmd_pair, "pair a connection with the practice's pairing code (Gentu)"},
    {"practitioners", cmd_practitioners, "list practitioners and map them to clinicians"},
    {"clinicians", cmd_clinicians, "list run-sheet clinicians (the run sheet's columns)"},
    {"types", cmd_types, "list appointment types and mark which are telehealth"},
    {"sync", cmd_sync, "sync a connection's appointments into the run sheet"},
    {"runsheet", cmd_runsheet, "show a day's run sheet"},
    {"log", cmd_log, "show a connection's sync history"},
    {"key", cmd_key, "generate, rotate and retire the encryption keys"},
    {"pms", cmd_pms, "list the supported PMSs and their settings"},
    {"account", cmd_account, "add or list accounts"},
    {"apikey", cmd_apikey, "create, list or revoke API keys"},
    {"user", cmd_user, "add, list or disable users of the web UI, or set a password"},
    {"audit", cmd_audit, "verify or export the audit log"},
    {"db", cmd_db, "the database: status, migrate, copy into another (SQLite to PostgreSQL)"},
};

static void usage(FILE *out)
{
    fputs("Usage: pmsctl [--db LOCATION] COMMAND [ARGS]...\n"
          "\n"
          "Connects practice management systems to the run sheet.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fputs(
        "\n"
        "Options:\n"
        "  --db LOCATION  the database: a SQLite file path, or postgres://USER@HOST/DB (a libpq\n"
        "                 URI); default $PMSYNC_DB or ./pmsync.db\n"
        "  --help         this text; 'pmsctl COMMAND --help' for a command\n"
        "\n"
        "Environment:\n"
        "  PMSYNC_DB                the database, when --db is not given\n"
        "  PMSYNC_ACCOUNT           the account of 'connection add', 'clinicians' and 'runsheet'\n"
        "                           when they are not given --account (default: the default\n"
        "                           account)\n"
        "  PMSYNC_SECRET_KEY        the encryption key (64 hex digits); during a rotation\n"
        "                           several, comma-separated, the first one sealing\n"
        "  PMSYNC_SECRET_KEY_FILE   a key file instead (default: pmsync.key beside the database)\n"
        "  PMSYNC_LOG_LEVEL         debug, info, warn (default), error or off\n"
        "\n"
        "Exit status: 0 on success, 1 on failure, 2 on a usage error.\n",
        out);
}

int main(int argc, char **argv)
{
    pms_log_set_level(PMS_LOG_WARN);
    pms_log_init_from_env();
    cli c = {.db_location = getenv("PMSYNC_DB")};
    if (c.db_location == NULL || c.db_location[0] == '\0')
        c.db_location = "pmsync.db";
    c.account_id = getenv("PMSYNC_ACCOUNT");
    if (c.account_id == NULL || c.account_id[0] == '\0')
        c.account_id = PMS_DEFAULT_ACCOUNT_ID;

    /* --db may come anywhere; take it out of argv. */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (args == NULL)
        return EXIT_FAIL;
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0) {
            if (i + 1 >= argc) {
                free(args);
                cli_error("--db needs a location");
                return EXIT_USAGE;
            }
            c.db_location = argv[++i];
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            c.db_location = argv[i] + 5;
        } else {
            args[n++] = argv[i];
        }
    }
    int status;
    if (n < 2) {
        usage(stderr);
        status = EXIT_USAGE;
    } else if (strcmp(args[1], "--help") == 0 || strcmp(args[1], "-h") == 0 ||
               strcmp(args[1], "help") == 0) {
        usage(stdout);
        status = EXIT_OK;
    } else {
        status = -1;
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
            if (strcmp(commands[i].name, args[1]) == 0) {
                status = commands[i].fn(&c, n - 1, args + 1);
                break;
            }
        }
        if (status < 0) {
            cli_error("unknown command '%s'", args[1]);
            usage(stderr);
            status = EXIT_USAGE;
        }
    }
    cli_close(&c);
    free(args);
    pms_ratelimit_cleanup();
    pms_crypto_cleanup();
    pms_tz_cleanup();
    return status;
}
