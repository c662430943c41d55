/* pmsctl types list|telehealth|exclude */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"

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

static json_t *types_json(const pms_stored_type_list *types)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < types->count; i++) {
        const pms_stored_type *t = &types->items[i];
        json_t *o =
            json_pack("{s:s, s:s, s:o, s:s?, s:b, s:b, s:b, s:b}", "id", t->pms_type_id, "name",
                      t->pms_type_name, "durationMinutes",
                      t->default_duration_minutes > 0 ? json_integer(t->default_duration_minutes)
                                                      : json_null(),
                      "colour", t->colour, "isTelehealth", t->is_telehealth,
                      "telehealthAutoDetected", t->telehealth_auto_detected, "suggestedTelehealth",
                      pms_appt_type_name_suggests_telehealth(t->pms_type_name), "syncEnabled",
                      t->sync_enabled);
        json_array_append_new(arr, o);
    }
    return arr;
}

static bool load_types(cli *c, const pms_connection *conn, bool refresh, pms_stored_type_list *out)
{
    memset(out, 0, sizeof *out);
    if (refresh && !cli_refresh_catalog(c, conn, false, true))
        return false;
    pms_error err = {0};
    if (c->store->ops->type_list(c->store, conn->id, out, &err) != PMS_OK) {
        cli_report("cannot read appointment types", &err);
        return false;
    }
    return true;
}

static int list(cli *c, const char *id, bool json, bool cached)
{
    pms_connection conn;
    if (!cli_connection(c, id, &conn))
        return EXIT_FAIL;
    pms_stored_type_list types;
    if (!load_types(c, &conn, !cached, &types)) {
        pms_connection_clear(&conn);
        return EXIT_FAIL;
    }
    if (json) {
        cli_print_json(types_json(&types));
    } else {
        printf("%-38s  %-32s  %5s  %-10s  %s\n", "TYPE ID", "NAME", "MIN", "TELEHEALTH", "SYNC");
        for (size_t i = 0; i < types.count; i++) {
            const pms_stored_type *t = &types.items[i];
            const char *tele = t->is_telehealth ? "yes"
                               : pms_appt_type_name_suggests_telehealth(t->pms_type_name)
                                   ? "suggested"
                                   : "no";
            printf("%-38s  %-32.32s  %5d  %-10s  %s\n", t->pms_type_id, t->pms_type_name,
                   t->default_duration_minutes, tele, t->sync_enabled ? "yes" : "no");
        }
    }
    pms_stored_type_list_clear(&types);
    pms_connection_clear(&conn);
    return EXIT_OK;
}

static bool known(const pms_stored_type_list *types, const char *id)
{
    for (size_t i = 0; i < types->count; i++)
        if (strcmp(types->items[i].pms_type_id, id) == 0)
            return true;
    return false;
}

static int set_flags(cli *c, const char *id, char **type_ids, int count, bool suggested,
                     bool telehealth, bool on)
{
    pms_connection conn;
    if (!cli_connection(c, id, &conn))
        return EXIT_FAIL;
    pms_stored_type_list types;
    int status = EXIT_FAIL;
    if (!load_types(c, &conn, false, &types))
        goto out_conn;
    /* Types never read yet: read them from the PMS first. */
    bool missing = suggested && types.count == 0;
    for (int i = 0; i < count; i++)
        missing |= !known(&types, type_ids[i]);
    if (missing) {
        pms_stored_type_list_clear(&types);
        if (!load_types(c, &conn, true, &types))
            goto out_conn;
    }
    pms_error err = {0};
    int changed = 0;
    if (suggested) {
        for (size_t i = 0; i < types.count; i++) {
            if (!pms_appt_type_name_suggests_telehealth(types.items[i].pms_type_name))
                continue;
            if (c->store->ops->type_set_flags(c->store, conn.id, types.items[i].pms_type_id,
                                              on ? 1 : 0, -1, &err) != PMS_OK) {
                cli_report("cannot update the type", &err);
                goto out;
            }
            printf("%s %s\n", on ? "telehealth:" : "not telehealth:", types.items[i].pms_type_name);
            changed++;
        }
    }
    for (int i = 0; i < count; i++) {
        if (!known(&types, type_ids[i])) {
            cli_error("no appointment type %s on this connection (see 'pmsctl types list')",
                      type_ids[i]);
            goto out;
        }
        int tele = telehealth ? (on ? 1 : 0) : -1;
        int sync = telehealth ? -1 : (on ? 0 : 1);
        if (c->store->ops->type_set_flags(c->store, conn.id, type_ids[i], tele, sync, &err) !=
            PMS_OK) {
            cli_report("cannot update the type", &err);
            goto out;
        }
        changed++;
    }
    printf("Updated %d appointment type(s).\n", changed);
    status = EXIT_OK;
out:
    pms_stored_type_list_clear(&types);
out_conn:
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
