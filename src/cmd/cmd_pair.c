/* pmsctl pair CONNECTION_ID PAIRING_CODE */
#include <string.h>

#include "cmd/cli.h"

static const char help_text[] =
    "Usage: pmsctl pair CONNECTION_ID PAIRING_CODE [--json]\n"
    "\n"
    "Pairs the connection with the practice using the code from the Gentu Marketplace, then\n"
    "records the practice's name and time zone. Codes can be used once.\n";

int cmd_pair(cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help_text, stdout);
        return EXIT_OK;
    }
    bool json = false;
    const char *positional[2];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (argv[i][0] == '-' && argv[i][1] == '-')
            return cli_usage_error("pair", "unknown option '%s'", argv[i]);
        else if (n < 2)
            positional[n++] = argv[i];
        else
            return cli_usage_error("pair", "too many arguments");
    }
    if (n != 2)
        return cli_usage_error("pair", "pair needs CONNECTION_ID and PAIRING_CODE");
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, false, &failed);
    if (failed)
        return EXIT_FAIL;
    pms_practice_info info;
    pms_error err = {0};
    pms_session_options opts = cli_session_options();
    if (pms_connection_pair(st, ring, positional[0], positional[1], &opts, &info, &err) != PMS_OK) {
        cli_report("pairing failed", &err);
        return err.code == PMS_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    }
    if (json) {
        cli_print_json(json_pack("{s:s?, s:s?, s:s?}", "tenantId", info.external_id, "practiceName",
                                 info.name, "timezone", info.timezone));
    } else {
        printf("Paired with %s", info.name ? info.name : "the practice");
        if (info.timezone)
            printf(" (%s)", info.timezone);
        printf(".\n");
    }
    pms_practice_info_clear(&info);
    return EXIT_OK;
}
