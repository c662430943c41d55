/* pmsctl log CONNECTION_ID [--limit N] [--json] */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "pmsync/sync.h"

static const char help_text[] =
    "Usage: pmsctl log CONNECTION_ID [--limit N] [--json]\n"
    "\n"
    "The connection's sync history, newest first: when, window, outcome, counts, errors.\n";

int cmd_log(cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help_text, stdout);
        return EXIT_OK;
    }
    const char *id = NULL;
    int limit = 20;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end != '\0' || v < 1 || v > 10000)
                return cli_usage_error("log", "--limit must be 1 to 10000");
            limit = (int)v;
        } else if (strncmp(argv[i], "--", 2) == 0 || id != NULL) {
            return cli_usage_error("log", "unexpected argument '%s'", argv[i]);
        } else {
            id = argv[i];
        }
    }
    if (id == NULL)
        return cli_usage_error("log", "log needs CONNECTION_ID");
    pms_connection conn;
    if (!cli_connection(c, id, &conn))
        return EXIT_FAIL;
    pms_connection_clear(&conn);
    pms_sync_log_list list = {0};
    pms_error err = {0};
    if (c->store->ops->sync_log_list(c->store, id, limit, &list, &err) != PMS_OK) {
        cli_report("cannot read the sync log", &err);
        return EXIT_FAIL;
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < list.count; i++)
            json_array_append_new(arr, pms_sync_log_entry_to_json(&list.items[i]));
        cli_print_json(arr);
    } else if (list.count == 0) {
        printf("No syncs yet.\n");
    } else {
        printf("%-24s  %-8s  %-23s  %7s %7s %7s %7s %7s %7s\n", "STARTED", "STATUS", "WINDOW",
               "FETCHED", "CREATED", "UPDATED", "SAME", "SKIPPED", "REMOVED");
        for (size_t i = 0; i < list.count; i++) {
            const pms_sync_log_entry *e = &list.items[i];
            char started[PMS_TIME_BUFLEN], from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN];
            pms_format_utc(e->started_at, started);
            pms_date_format(e->window_from, from);
            pms_date_format(e->window_to, to);
            char window[48];
            snprintf(window, sizeof window, "%s%s%s", from, strcmp(from, to) ? ".." : "",
                     strcmp(from, to) ? to + 5 : "");
            printf("%-24s  %-8s  %-23s  %7ld %7ld %7ld %7ld %7ld %7ld\n", started, e->status,
                   window, e->counts.fetched, e->counts.created, e->counts.updated,
                   e->counts.unchanged, e->counts.skipped, e->counts.removed);
            if (e->error_message)
                printf("  %s\n", e->error_message);
        }
    }
    pms_sync_log_list_clear(&list);
    return EXIT_OK;
}
