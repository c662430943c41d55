/* pmsctl pms list */
#include <string.h>

#include "cmd/cli.h"

static const char pms_help[] = "Usage: pmsctl pms list [--json]\n"
                               "\n"
                               "The supported PMSs, what each can do and its settings.\n";

int cmd_pms(cli *c, int argc, char **argv)
{
    (void)c;
    if (cli_wants_help(argc, argv)) {
        fputs(pms_help, stdout);
        return EXIT_OK;
    }
    bool json = false;
    if (argc < 2 || strcmp(argv[1], "list") != 0)
        return cli_usage_error("pms", "expected 'list'");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return cli_usage_error("pms", "unknown argument '%s'", argv[i]);
    }
    json_t *doc = pms_systems_to_json();
    if (doc == NULL)
        return EXIT_FAIL;
    if (json) {
        cli_print_json(doc);
        return EXIT_OK;
    }
    json_t *all = json_object_get(doc, "pms");
    size_t i;
    json_t *pms;
    json_array_foreach(all, i, pms)
    {
        printf("%s — %s\n", json_string_value(json_object_get(pms, "name")),
               json_string_value(json_object_get(pms, "displayName")));
        size_t j;
        json_t *s;
        json_array_foreach(json_object_get(pms, "settings"), j, s)
        {
            printf("  --set %s=...%s%s  %s\n", json_string_value(json_object_get(s, "key")),
                   json_is_true(json_object_get(s, "required")) ? " (required)" : "",
                   json_is_true(json_object_get(s, "secret")) ? " (secret)" : "",
                   json_string_value(json_object_get(s, "help")));
        }
    }
    printf("Every PMS also takes:");
    for (const pms_setting_def *d = pms_generic_settings(); d->key; d++)
        printf(" %s", d->key);
    printf("\n");
    json_decref(doc);
    return EXIT_OK;
}
