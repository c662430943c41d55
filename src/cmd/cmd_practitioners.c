/* pmsctl practitioners list|map|unmap|create-clinician|enable|disable, pmsctl clinicians */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "pmsync/names.h"

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

static const char clinicians_help[] = "Usage:\n"
                                      "  pmsctl clinicians list [--json]\n"
                                      "  pmsctl clinicians add NAME\n"
                                      "      Run-sheet clinicians are the run sheet's columns.\n";

/* The mapping of a practitioner, or NULL (printed) when there is none. */
static pms_mapping *find_mapping(pms_mapping_list *list, const char *pid)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].pms_practitioner_id, pid) == 0)
            return &list->items[i];
    cli_error("no practitioner %s on this connection (run 'pmsctl practitioners list' to read "
              "them from the PMS)",
              pid);
    return NULL;
}

static json_t *suggestions(const pms_mapping *m, const pms_clinician_list *clinicians)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < clinicians->count && m->pms_practitioner_name; i++) {
        double score = pms_name_similarity(m->pms_practitioner_name, clinicians->items[i].name);
        if (score >= 0.5 && (m->run_sheet_clinician_id == NULL ||
                             strcmp(m->run_sheet_clinician_id, clinicians->items[i].id) != 0))
            json_array_append_new(arr, json_pack("{s:s, s:s, s:f}", "clinicianId",
                                                 clinicians->items[i].id, "name",
                                                 clinicians->items[i].name, "score", score));
    }
    return arr;
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
    pms_store *st = c->store;
    pms_mapping_list mappings = {0};
    pms_clinician_list clinicians = {0};
    pms_error err = {0};
    int status = EXIT_OK;
    if (st->ops->mapping_list(st, id, &mappings, &err) != PMS_OK ||
        st->ops->clinician_list(st, conn.account_id, &clinicians, &err) != PMS_OK) {
        cli_report("cannot read practitioners", &err);
        status = EXIT_FAIL;
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < mappings.count; i++) {
        const pms_mapping *m = &mappings.items[i];
        bool synced =
            m->sync_enabled && m->run_sheet_clinician_id && m->pms_active && m->pms_bookable;
        json_array_append_new(
            arr,
            json_pack("{s:s, s:s?, s:b, s:b, s:s?, s:s?, s:b, s:b, s:b, s:o}", "pmsPractitionerId",
                      m->pms_practitioner_id, "name", m->pms_practitioner_name, "active",
                      m->pms_active, "shownInAppointmentBook", m->pms_bookable, "clinicianId",
                      m->run_sheet_clinician_id, "clinicianName", m->clinician_name, "syncEnabled",
                      m->sync_enabled, "autoCreated", m->auto_created, "synced", synced,
                      "suggestions", suggestions(m, &clinicians)));
    }
    if (json) {
        cli_print_json(arr);
        goto out;
    }
    printf("%-38s  %-28s  %-24s  %s\n", "PRACTITIONER ID", "NAME", "CLINICIAN", "SYNC");
    size_t i;
    json_t *row;
    json_array_foreach(arr, i, row)
    {
        const char *state = json_is_true(json_object_get(row, "synced"))    ? "yes"
                            : !json_is_true(json_object_get(row, "active")) ? "no (inactive)"
                            : !json_is_true(json_object_get(row, "shownInAppointmentBook"))
                                ? "no (not in appointment book)"
                            : json_is_null(json_object_get(row, "clinicianId")) ? "no (not mapped)"
                                                                                : "no (disabled)";
        const json_t *clinician = json_object_get(row, "clinicianName");
        printf("%-38s  %-28.28s  %-24.24s  %s\n",
               json_string_value(json_object_get(row, "pmsPractitionerId")),
               json_is_string(json_object_get(row, "name"))
                   ? json_string_value(json_object_get(row, "name"))
                   : "",
               json_is_string(clinician) ? json_string_value(clinician) : "-", state);
        size_t j;
        json_t *sug;
        json_array_foreach(json_object_get(row, "suggestions"), j, sug)
        {
            printf("%-38s  similar clinician: %s (%s)\n", "",
                   json_string_value(json_object_get(sug, "name")),
                   json_string_value(json_object_get(sug, "clinicianId")));
        }
    }
    json_decref(arr);
out:
    pms_mapping_list_clear(&mappings);
    pms_clinician_list_clear(&clinicians);
    pms_connection_clear(&conn);
    return status;
}

/* Loads the connection's mappings; the caller clears them. */
static bool load(cli *c, const char *id, pms_connection *conn, pms_mapping_list *mappings)
{
    memset(mappings, 0, sizeof *mappings);
    if (!cli_connection(c, id, conn))
        return false;
    pms_error err = {0};
    if (c->store->ops->mapping_list(c->store, id, mappings, &err) != PMS_OK) {
        cli_report("cannot read practitioners", &err);
        pms_connection_clear(conn);
        return false;
    }
    return true;
}

static int save(cli *c, pms_mapping *m)
{
    pms_error err = {0};
    if (c->store->ops->mapping_upsert(c->store, m, &err) != PMS_OK) {
        cli_report("cannot save the mapping", &err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int map_to(cli *c, const char *id, const char *pid, const char *clinician_id)
{
    pms_connection conn;
    pms_mapping_list mappings;
    if (!load(c, id, &conn, &mappings))
        return EXIT_FAIL;
    int status = EXIT_FAIL;
    pms_mapping *m = find_mapping(&mappings, pid);
    pms_clinician clinician = {0};
    pms_error err = {0};
    if (m == NULL)
        goto out;
    if (c->store->ops->clinician_get(c->store, clinician_id, &clinician, &err) != PMS_OK ||
        strcmp(clinician.account_id, conn.account_id) != 0) {
        cli_error("no clinician %s (see 'pmsctl clinicians list')", clinician_id);
        goto out;
    }
    if (pms_str_set(&m->run_sheet_clinician_id, clinician_id))
        goto out;
    m->sync_enabled = true;
    m->auto_created = false;
    if ((status = save(c, m)) == EXIT_OK)
        printf("%s now fills the run-sheet column %s.\n",
               m->pms_practitioner_name ? m->pms_practitioner_name : pid, clinician.name);
out:
    pms_clinician_clear(&clinician);
    pms_mapping_list_clear(&mappings);
    pms_connection_clear(&conn);
    return status;
}

static int create_clinician(cli *c, const char *id, const char *pid, const char *name)
{
    pms_connection conn;
    pms_mapping_list mappings;
    if (!load(c, id, &conn, &mappings))
        return EXIT_FAIL;
    int status = EXIT_FAIL;
    pms_mapping *m = find_mapping(&mappings, pid);
    pms_clinician clinician = {0};
    pms_error err = {0};
    if (m == NULL)
        goto out;
    if (pms_str_set(&clinician.account_id, conn.account_id) ||
        pms_str_set(&clinician.name, name                       ? name
                                     : m->pms_practitioner_name ? m->pms_practitioner_name
                                                                : pid) ||
        pms_str_set(&clinician.pms_practitioner_id, pid) ||
        pms_str_set(&clinician.pms_connection_id, conn.id))
        goto out;
    if (c->store->ops->clinician_insert(c->store, &clinician, &err) != PMS_OK) {
        cli_report("cannot create the clinician", &err);
        goto out;
    }
    if (pms_str_set(&m->run_sheet_clinician_id, clinician.id))
        goto out;
    m->sync_enabled = true;
    m->auto_created = false;
    if ((status = save(c, m)) == EXIT_OK)
        printf("%s\n", clinician.id);
out:
    pms_clinician_clear(&clinician);
    pms_mapping_list_clear(&mappings);
    pms_connection_clear(&conn);
    return status;
}

static int set_flag(cli *c, const char *id, char **pids, int count, int enable, bool unmap)
{
    pms_connection conn;
    pms_mapping_list mappings;
    if (!load(c, id, &conn, &mappings))
        return EXIT_FAIL;
    int status = EXIT_OK;
    for (int i = 0; i < count && status == EXIT_OK; i++) {
        pms_mapping *m = find_mapping(&mappings, pids[i]);
        if (m == NULL) {
            status = EXIT_FAIL;
            break;
        }
        if (unmap) {
            free(m->run_sheet_clinician_id);
            m->run_sheet_clinician_id = NULL;
        } else {
            if (enable && m->run_sheet_clinician_id == NULL) {
                cli_error("%s is not mapped to a clinician yet: use 'practitioners map' or "
                          "'practitioners create-clinician'",
                          pids[i]);
                status = EXIT_FAIL;
                break;
            }
            m->sync_enabled = enable;
        }
        status = save(c, m);
    }
    if (status == EXIT_OK)
        printf("Updated %d practitioner(s).\n", count);
    pms_mapping_list_clear(&mappings);
    pms_connection_clear(&conn);
    return status;
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
        status = map_to(c, pos[0], pos[1], pos[2]);
    else if (strcmp(sub, "create-clinician") == 0 && n == 2)
        status = create_clinician(c, pos[0], pos[1], name);
    else if (strcmp(sub, "unmap") == 0 && n == 2)
        status = set_flag(c, pos[0], pos + 1, 1, 0, true);
    else if ((strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0) && n >= 2)
        status = set_flag(c, pos[0], pos + 1, n - 1, strcmp(sub, "enable") == 0, false);
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
    pms_store *st;
    pms_error err = {0};
    if (strcmp(argv[1], "add") == 0 && argc == 3) {
        if ((st = cli_store(c)) == NULL)
            return EXIT_FAIL;
        pms_clinician clinician = {.name = argv[2]};
        if (strlen(argv[2]) == 0 || strlen(argv[2]) > 255)
            return cli_usage_error("clinicians", "a clinician's name is 1 to 255 characters");
        if (st->ops->clinician_insert(st, &clinician, &err) != PMS_OK) {
            cli_report("cannot add the clinician", &err);
            return EXIT_FAIL;
        }
        printf("%s\n", clinician.id);
        free(clinician.id);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "list") != 0 || argc > 3 || (argc == 3 && strcmp(argv[2], "--json")))
        return cli_usage_error("clinicians", "expected 'list [--json]' or 'add NAME'");
    if ((st = cli_store(c)) == NULL)
        return EXIT_FAIL;
    pms_clinician_list list = {0};
    if (st->ops->clinician_list(st, PMS_DEFAULT_ACCOUNT_ID, &list, &err) != PMS_OK) {
        cli_report("cannot list clinicians", &err);
        return EXIT_FAIL;
    }
    if (argc == 3) {
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
