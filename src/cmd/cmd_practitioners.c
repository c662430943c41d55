/* pmsctl practitioners list|map|unmap|create-clinician|enable|disable, pmsctl clinicians */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "pmsync/mappings.h"

static const char help_text[] =
    "Usage:\n"
    "  pmsctl practitioners list CONNECTION_ID [--json] [--cached]\n"
    "      The PMS's practitioners (read from the PMS unless --cached) with their run-sheet\n"
    "      clinician, whether they are synced, and clinicians with similar names.\n"
    "  pmsctl practitioners map CONNECTION_ID PRACTITIONER_ID CLINICIAN_ID\n"
    "  pmsctl practitioners create-clinician CONNECTION_ID PRACTITIONER_ID [--name NAME]\n"
    "      Creates a run-sheet clinician (named like the practitioner) and maps to it.\n"
    "  pmsctl practitioners unmap CONNECTION_ID PRACTITIONER_ID\n"
    "  pmsctl practitioners enable|disable CONNECTION_ID PRACTITIONER_ID...\n"
    "      Turns syncing of a mapped practitioner on or off.\n";

static const char clinicians_help[] =
    "Usage:\n"
    "  pmsctl clinicians list [--account ACCOUNT_ID] [--json]\n"
    "  pmsctl clinicians add NAME [--account ACCOUNT_ID]\n"
    "      Run-sheet clinicians are the run sheet's columns. The account defaults to\n"
    "      $PMSYNC_ACCOUNT, else the default account.\n";

static void print_table(const json_t *arr)
{
    printf("%-38s  %-28s  %-24s  %s\n", "PRACTITIONER ID", "NAME", "CLINICIAN", "SYNC");
    size_t i;
    const json_t *row;
    json_array_foreach(arr, i, row)
    {
        const json_t *reason = json_object_get(row, "notSyncedReason");
        const char *why = json_string_value(reason);
        const char *state = why == NULL                    ? "yes"
                            : strcmp(why, "inactive") == 0 ? "no (inactive)"
                            : strcmp(why, "not_in_appointment_book") == 0
                                ? "no (not in appointment book)"
                            : strcmp(why, "not_mapped") == 0 ? "no (not mapped)"
                                                             : "no (disabled)";
        const json_t *clinician = json_object_get(row, "clinicianName");
        const json_t *name = json_object_get(row, "name");
        printf("%-38s  %-28.28s  %-24.24s  %s\n",
               json_string_value(json_object_get(row, "pmsPractitionerId")),
               json_is_string(name) ? json_string_value(name) : "",
               json_is_string(clinician) ? json_string_value(clinician) : "-", state);
        size_t j;
        const json_t *sug;
        json_array_foreach(json_object_get(row, "suggestions"), j, sug)
        {
            printf("%-38s  similar clinician: %s (%s)\n", "",
                   json_string_value(json_object_get(sug, "name")),
                   json_string_value(json_object_get(sug, "clinicianId")));
        }
    }
}

static int list(cli *c, const char *id, bool json, bool cached)
{
    pms_connection conn;
    if (!cli_connection(c, id, &conn))
        return EXIT_FAIL;
    if (!cached && !cli_refresh_catalog(c, &conn, true, false)) {
        pms_connection_clear(&conn);
        return EXIT_FAIL;
    }
    json_t *arr = NULL;
    pms_error err = {0};
    int status = EXIT_OK;
    if (pms_practitioners_to_json(c->store, &conn, &arr, &err) != PMS_OK) {
        cli_report("cannot read practitioners", &err);
        status = EXIT_FAIL;
    } else if (json) {
        cli_print_json(arr);
    } else {
        print_table(arr);
        json_decref(arr);
    }
    pms_connection_clear(&conn);
    return status;
}

typedef enum change { MAP, CREATE, UNMAP, ENABLE, DISABLE } change;

static int apply(cli *c, change what, const char *id, char **pids, int count, const char *arg)
{
    pms_connection conn;
    if (!cli_connection(c, id, &conn))
        return EXIT_FAIL;
    pms_error err = {0};
    int rc = PMS_OK;
    char created[PMS_STORE_ID_LEN] = "";
    rc = c->store->ops->begin(c->store, &err);
    for (int i = 0; i < count && rc == PMS_OK; i++) {
        switch (what) {
        case MAP:
            rc = pms_mapping_assign(c->store, &conn, pids[i], arg, &err);
            break;
        case CREATE:
            rc = pms_mapping_create_clinician(c->store, &conn, pids[i], arg, created, &err);
            break;
        case UNMAP:
            rc = pms_mapping_unmap(c->store, &conn, pids[i], &err);
            break;
        case ENABLE:
        case DISABLE:
            rc = pms_mapping_set_enabled(c->store, &conn, pids[i], what == ENABLE, &err);
            break;
        }
    }
    if (rc == PMS_OK)
        rc = c->store->ops->commit(c->store, &err);
    if (rc != PMS_OK)
        c->store->ops->rollback(c->store);
    pms_connection_clear(&conn);
    if (rc != PMS_OK) {
        cli_report("cannot change the mapping", &err);
        if (rc == PMS_ERR_NOT_FOUND && strcmp(err.field, "pmsPractitionerId") == 0)
            fprintf(stderr, "  (run 'pmsctl practitioners list' to read them from the PMS)\n");
        else if (rc == PMS_ERR_NOT_FOUND)
            fprintf(stderr, "  (see 'pmsctl clinicians list')\n");
        return EXIT_FAIL;
    }
    if (what == CREATE)
        printf("%s\n", created);
    else
        printf("Updated %d practitioner(s).\n", count);
    return EXIT_OK;
}

int cmd_practitioners(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(help_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    bool json = false, cached = false;
    const char *name = NULL;
    char **pos = calloc((size_t)argc, sizeof *pos);
    int n = 0;
    if (pos == NULL)
        return EXIT_FAIL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--cached") == 0) {
            cached = true;
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0) {
            free(pos);
            return cli_usage_error("practitioners", "unknown option '%s'", argv[i]);
        } else {
            pos[n++] = argv[i];
        }
    }
    int status;
    if (strcmp(sub, "list") == 0 && n == 1)
        status = list(c, pos[0], json, cached);
    else if (strcmp(sub, "map") == 0 && n == 3)
        status = apply(c, MAP, pos[0], pos + 1, 1, pos[2]);
    else if (strcmp(sub, "create-clinician") == 0 && n == 2)
        status = apply(c, CREATE, pos[0], pos + 1, 1, name);
    else if (strcmp(sub, "unmap") == 0 && n == 2)
        status = apply(c, UNMAP, pos[0], pos + 1, 1, NULL);
    else if ((strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0) && n >= 2)
        status =
            apply(c, strcmp(sub, "enable") == 0 ? ENABLE : DISABLE, pos[0], pos + 1, n - 1, NULL);
    else
        status = cli_usage_error("practitioners", "unknown subcommand or wrong arguments");
    free(pos);
    return status;
}

int cmd_clinicians(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(clinicians_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    bool json = false;
    const char *name = NULL;
    int positional = 0;
    for (int i = 2; i < argc; i++) {
        if (cli_take_account(c, argc, argv, &i))
            continue;
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strncmp(argv[i], "--", 2) == 0)
            return cli_usage_error("clinicians", "unknown option '%s'", argv[i]);
        else if (positional++ == 0)
            name = argv[i];
        else
            return cli_usage_error("clinicians", "too many arguments");
    }
    bool add = strcmp(argv[1], "add") == 0;
    if (add ? (name == NULL || json) : (strcmp(argv[1], "list") != 0 || name != NULL))
        return cli_usage_error("clinicians", "expected 'list [--json]' or 'add NAME'");
    pms_store *st = cli_store(c);
    if (st == NULL || !cli_account_exists(c))
        return EXIT_FAIL;
    pms_error err = {0};
    if (add) {
        if (strlen(name) == 0 || strlen(name) > 255)
            return cli_usage_error("clinicians", "a clinician's name is 1 to 255 characters");
        pms_clinician clinician = {.account_id = (char *)c->account_id, .name = (char *)name};
        if (st->ops->clinician_insert(st, &clinician, &err) != PMS_OK) {
            cli_report("cannot add the clinician", &err);
            return EXIT_FAIL;
        }
        printf("%s\n", clinician.id);
        free(clinician.id);
        return EXIT_OK;
    }
    pms_clinician_list list = {0};
    if (st->ops->clinician_list(st, c->account_id, &list, &err) != PMS_OK) {
        cli_report("cannot list clinicians", &err);
        return EXIT_FAIL;
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < list.count; i++)
            json_array_append_new(arr,
                                  json_pack("{s:s, s:s, s:s?, s:s?}", "id", list.items[i].id,
                                            "name", list.items[i].name, "pmsPractitionerId",
                                            list.items[i].pms_practitioner_id, "pmsConnectionId",
                                            list.items[i].pms_connection_id));
        cli_print_json(arr);
    } else {
        for (size_t i = 0; i < list.count; i++)
            printf("%-36s  %s\n", list.items[i].id, list.items[i].name);
    }
    pms_clinician_list_clear(&list);
    return EXIT_OK;
}
