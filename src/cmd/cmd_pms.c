/* pmsctl pms list */
#include <string.h>

#include "cmd/cli.h"

static const char pms_help[] = "Usage: pmsctl pms list [--json]\n"
                               "\n"
                               "The supported PMSs, what each can do and its settings.\n";

static json_t *settings_json(const pms_setting_def *defs)
{
    json_t *arr = json_array();
    for (const pms_setting_def *d = defs; d && d->key; d++)
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:b, s:b, s:s?}", "key", d->key, "label",
                                        d->label, "help", d->help, "required", d->required,
                                        "secret", d->secret, "default", d->default_value));
    return arr;
}

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
    json_t *all = json_array();
    for (const pms_adapter_ops *const *a = pms_adapter_all(); *a; a++) {
        json_array_append_new(all, json_pack("{s:s, s:s, s:s?, s:o, s:o}", "name", (*a)->name,
                                             "displayName", (*a)->display_name, "defaultBaseUrl",
                                             (*a)->default_base_url, "capabilities",
                                             pms_capabilities_to_json(pms_adapter_capabilities(*a)),
                                             "settings", settings_json((*a)->settings)));
    }
    if (json) {
        json_t *doc = json_pack("{s:o, s:o}", "pms", all, "genericSettings",
                                settings_json(pms_generic_settings()));
        cli_print_json(doc);
        return EXIT_OK;
    }
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
    json_decref(all);
    return EXIT_OK;
}
