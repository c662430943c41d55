/* pmsctl types list|telehealth|exclude */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "pmsync/mappings.h"

static const char help_text[] =
    "Usage:\n"
    "  pmsctl types list CONNECTION_ID [--json] [--cached]\n"
    "      Appointment types (read from the PMS unless --cached), which are telehealth, which\n"
    "      are synced, and which look like telehealth by their name (a suggestion only).\n"
    "  pmsctl types telehealth CONNECTION_ID TYPE_ID... [--off]\n"
    "  pmsctl types telehealth CONNECTION_ID --suggested\n"
    "      Marks types as telehealth (or not, with --off). --suggested marks every type whose\n"
    "      name suggests telehealth. Needed for Gentu, whose types carry no telehealth flag.\n"
    "  pmsctl types exclude CONNECTION_ID TYPE_ID... [--off]\n"
    "      Leaves appointments of these types off the run sheet (--off includes them again).\n";

static int list(cli *c, const char *id, bool json, bool cached)
{
    pms_connection conn;
    if (!cli_connection(c, id, &conn))
        return EXIT_FAIL;
    if (!cached && !cli_refresh_catalog(c, &conn, false, true)) {
        pms_connection_clear(&conn);
        return EXIT_FAIL;
    }
    json_t *arr = NULL;
    pms_error err = {0};
    if (pms_types_to_json(c->store, &conn, &arr, &err) != PMS_OK) {
        cli_report("cannot read appointment types", &err);
        pms_connection_clear(&conn);
        return EXIT_FAIL;
    }
    pms_connection_clear(&conn);
    if (json) {
        cli_print_json(arr);
        return EXIT_OK;
    }
    printf("%-38s  %-32s  %5s  %-10s  %s\n", "TYPE ID", "NAME", "MIN", "TELEHEALTH", "SYNC");
    size_t i;
    const json_t *t;
    json_array_foreach(arr, i, t)
    {
        const char *tele = json_is_true(json_object_get(t, "isTelehealth"))          ? "yes"
                           : json_is_true(json_object_get(t, "suggestedTelehealth")) ? "suggested"
                                                                                     : "no";
        printf("%-38s  %-32.32s  %5d  %-10s  %s\n", json_string_value(json_object_get(t, "id")),
               json_string_value(json_object_get(t, "name")),
               (int)json_integer_value(json_object_get(t, "durationMinutes")), tele,
               json_is_true(json_object_get(t, "syncEnabled")) ? "yes" : "no");
    }
    json_decref(arr);
    return EXIT_OK;
}

static int set_flags(cli *c, const char *id, char **type_ids, int count, bool suggested,
                     bool telehealth, bool on)
{
    pms_connection conn;
    if (!cli_connection(c, id, &conn))
        return EXIT_FAIL;
    pms_stored_type_list types = {0};
    pms_error err = {0};
    int status = EXIT_FAIL;
    if (c->store->ops->type_list(c->store, conn.id, &types, &err) != PMS_OK) {
        cli_report("cannot read appointment types", &err);
        goto out;
    }
    /* Types never read yet: read them from the PMS first. */
    if ((suggested || count > 0) && types.count == 0 && !cli_refresh_catalog(c, &conn, false, true))
        goto out;
    int changed = 0;
    if (suggested && pms_type_mark_suggested(c->store, &conn, on, &changed, &err) != PMS_OK) {
        cli_report("cannot update the types", &err);
        goto out;
    }
    for (int i = 0; i < count; i++) {
        int tele = telehealth ? (on ? 1 : 0) : -1;
        int sync = telehealth ? -1 : (on ? 0 : 1);
        int rc = pms_type_set_flags(c->store, &conn, type_ids[i], tele, sync, &err);
        if (rc == PMS_ERR_NOT_FOUND && types.count > 0) {
            /* Perhaps new in the PMS since the types were read. */
            if (!cli_refresh_catalog(c, &conn, false, true))
                goto out;
            rc = pms_type_set_flags(c->store, &conn, type_ids[i], tele, sync, &err);
        }
        if (rc != PMS_OK) {
            cli_report("cannot update the type", &err);
            if (rc == PMS_ERR_NOT_FOUND)
                fprintf(stderr, "  (see 'pmsctl types list')\n");
            goto out;
        }
        changed++;
    }
    printf("Updated %d appointment type(s).\n", changed);
    status = EXIT_OK;
out:
    pms_stored_type_list_clear(&types);
    pms_connection_clear(&conn);
    return status;
}

int cmd_types(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(help_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    bool json = false, cached = false, off = false, suggested = false;
    char **pos = calloc((size_t)argc, sizeof *pos);
    int n = 0;
    if (pos == NULL)
        return EXIT_FAIL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--cached") == 0)
            cached = true;
        else if (strcmp(argv[i], "--off") == 0)
            off = true;
        else if (strcmp(argv[i], "--suggested") == 0)
            suggested = true;
        else if (strncmp(argv[i], "--", 2) == 0) {
            free(pos);
            return cli_usage_error("types", "unknown option '%s'", argv[i]);
        } else
            pos[n++] = argv[i];
    }
    int status;
    if (strcmp(sub, "list") == 0 && n == 1)
        status = list(c, pos[0], json, cached);
    else if (strcmp(sub, "telehealth") == 0 && (n >= 2 || (n == 1 && suggested)))
        status = set_flags(c, pos[0], pos + 1, n - 1, suggested, true, !off);
    else if (strcmp(sub, "exclude") == 0 && n >= 2 && !suggested)
        status = set_flags(c, pos[0], pos + 1, n - 1, false, false, !off);
    else
        status = cli_usage_error("types", "unknown subcommand or wrong arguments");
    free(pos);
    return status;
}
