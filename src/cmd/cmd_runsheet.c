/* pmsctl runsheet [--connection ID] [--date D] [--json] */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "pmsync/sync.h"
#include "pmsync/tz.h"

static const char help_text[] =
    "Usage: pmsctl runsheet [--connection CONNECTION_ID | --account ACCOUNT_ID]\n"
    "                       [--date YYYY-MM-DD] [--json] [--include-removed]\n"
    "\n"
    "A day's run sheet: appointments grouped by clinician, times in the practice's zone.\n"
    "The day defaults to the practice's today. --json prints a JSON array of unified\n"
    "appointments (the plan's camelCase fields) with their run-sheet fields. Appointments\n"
    "that disappeared from the PMS are left out unless --include-removed.\n";

static void local_hm(pms_instant t, const char *tz_name, char out[8])
{
    const pms_tz *tz;
    pms_civil c = {0};
    if (pms_tz_get(tz_name ? tz_name : "UTC", &tz, NULL) == PMS_OK)
        pms_tz_to_local(tz, t, &c);
    snprintf(out, 8, "%02d:%02d", c.hour, c.minute);
}

static void print_table(const pms_sheet_entry_list *list, pms_date day, const char *tz)
{
    char date[PMS_TIME_BUFLEN];
    pms_date_format(day, date);
    printf("Run sheet for %s (%s): %zu appointment(s)\n", date, tz, list->count);
    const char *current = NULL;
    for (size_t i = 0; i < list->count; i++) {
        const pms_sheet_entry *e = &list->items[i];
        pms_appointment a;
        if (pms_sheet_entry_effective(e, &a, NULL) != PMS_OK)
            continue;
        const char *clinician = e->clinician_name ? e->clinician_name : "(no clinician)";
        if (current == NULL || strcmp(current, clinician) != 0) {
            printf("\n%s\n", clinician);
            current = clinician;
        }
        char start[8], end[8];
        local_hm(a.start_time, a.timezone, start);
        local_hm(a.end_time, a.timezone, end);
        printf("  %s-%s  %-24.24s  %-16.16s  %-11s  %-26.26s  %-10s%s%s\n", start, end,
               a.patient.full_name ? a.patient.full_name : "(unknown patient)",
               a.patient.phone ? a.patient.phone : "", pms_appt_status_name(a.status),
               a.appointment_type_name ? a.appointment_type_name : "",
               a.is_telehealth ? "telehealth" : "", e->source == PMS_SOURCE_PMS ? "" : "  ",
               e->source == PMS_SOURCE_PMS ? "" : pms_source_name(e->source));
        if (e->removed_at != PMS_INSTANT_NONE)
            printf("      (removed from the PMS)\n");
        pms_appointment_clear(&a);
    }
}

int cmd_runsheet(cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help_text, stdout);
        return EXIT_OK;
    }
    const char *connection_id = NULL;
    pms_date day = {0, 0, 0};
    bool json = false, include_removed = false;
    bool have_account = false;
    for (int i = 1; i < argc; i++) {
        if (cli_take_account(c, argc, argv, &i)) {
            have_account = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--include-removed") == 0) {
            include_removed = true;
        } else if (strcmp(argv[i], "--connection") == 0 && i + 1 < argc) {
            connection_id = argv[++i];
        } else if (strcmp(argv[i], "--date") == 0) {
            if (i + 1 >= argc || !cli_parse_date(argv[i + 1], &day))
                return cli_usage_error("runsheet", "--date needs a date as YYYY-MM-DD");
            i++;
        } else {
            return cli_usage_error("runsheet", "unexpected argument '%s'", argv[i]);
        }
    }
    if (have_account && connection_id)
        return cli_usage_error("runsheet", "give --connection or --account, not both");
    pms_store *st = cli_store(c);
    if (st == NULL || (!connection_id && !cli_account_exists(c)))
        return EXIT_FAIL;
    pms_error err = {0};
    char *tz = NULL;
    const char *account = c->account_id;
    pms_connection conn = {0};
    if (connection_id) {
        if (!cli_connection(c, connection_id, &conn))
            return EXIT_FAIL;
        tz = strdup(conn.timezone);
        account = conn.account_id;
    } else if (st->ops->account_timezone(st, account, &tz, &err) != PMS_OK) {
        cli_report("cannot read the account", &err);
        return EXIT_FAIL;
    }
    if (tz == NULL)
        tz = strdup("Australia/Sydney");
    int status = EXIT_OK;
    if (day.year == 0 && pms_practice_today(tz, &day, &err) != PMS_OK) {
        cli_report("cannot work out today's date", &err);
        status = EXIT_FAIL;
        goto out;
    }
    pms_sheet_query q = {
        .account_id = account,
        .connection_id = connection_id,
        .date = day,
        .include_removed = include_removed,
    };
    pms_sheet_entry_list list = {0};
    if (st->ops->entry_list(st, &q, &list, &err) != PMS_OK) {
        cli_report("cannot read the run sheet", &err);
        status = EXIT_FAIL;
        goto out;
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < list.count; i++)
            json_array_append_new(arr, pms_sheet_entry_to_json(&list.items[i], true));
        cli_print_json(arr);
    } else {
        print_table(&list, day, tz);
    }
    pms_sheet_entry_list_clear(&list);
out:
    free(tz);
    pms_connection_clear(&conn);
    return status;
}
