/* pmsctl key generate */
#include <string.h>

#include "cmd/cli.h"

static const char key_help[] =
    "Usage: pmsctl key generate [--file PATH]\n"
    "\n"
    "Writes a new random AES-256 key to a file readable by its owner only (0600). The default\n"
    "file is $PMSYNC_SECRET_KEY_FILE, or pmsync.key beside the database. An existing file is\n"
    "never overwritten.\n";

int cmd_key(cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(key_help, stdout);
        return EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "generate") != 0)
        return cli_usage_error("key", "expected 'generate'");
    const char *file = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
            file = argv[++i];
        else
            return cli_usage_error("key", "unknown argument '%s'", argv[i]);
    }
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
