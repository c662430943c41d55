/* pmsctl sync CONNECTION_ID [--date D | --from D --to D] [--incremental] */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "pmsync/sync.h"

static const char help_text[] =
    "Usage: pmsctl sync CONNECTION_ID [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD]\n"
    "                   [--incremental] [--json]\n"
    "\n"
    "Reads the connection's appointments for the practice's today (or the given days, in the\n"
    "practice's time zone) into the run sheet. Shows progress on a terminal and a summary at\n"
    "the end. Safe to run again at any time; Ctrl-C stops cleanly.\n"
    "\n"
    "--incremental reads only what the PMS changed since the previous sync of the window, and\n"
    "removes nothing, where the adapter can (capability incremental) and a full sweep of the\n"
    "window is recent (the connection's full_sweep_minutes, default 60); otherwise the whole\n"
    "window is swept.\n"
    "\n"
    "Exit status: 0 when the whole window (or everything changed) was read (records the PMS\n"
    "sent malformed are skipped and reported); 1 when the sync failed or could not read\n"
    "everything.\n";

static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, true);
}

static void show_progress(void *ctx, const pms_sync_progress *p)
{
    (void)ctx;
    fprintf(stderr, "\r  %ld fetched, %ld new, %ld updated, %ld unchanged, %ld skipped   ",
            p->counts.fetched, p->counts.created, p->counts.updated, p->counts.unchanged,
            p->counts.skipped);
    fflush(stderr);
}

int cmd_sync(cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help_text, stdout);
        return EXIT_OK;
    }
    const char *id = NULL;
    pms_sync_request req = {.today = true, .sync_type = "manual"};
    bool have_date = false, have_from = false, have_to = false, json = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        pms_date *target = NULL;
        if (strcmp(arg, "--json") == 0) {
            json = true;
            continue;
        }
        if (strcmp(arg, "--incremental") == 0) {
            req.sync_type = "incremental";
            continue;
        }
        if (strcmp(arg, "--date") == 0) {
            target = &req.from;
            have_date = true;
        } else if (strcmp(arg, "--from") == 0) {
            target = &req.from;
            have_from = true;
        } else if (strcmp(arg, "--to") == 0) {
            target = &req.to;
            have_to = true;
        } else if (strncmp(arg, "--", 2) == 0) {
            return cli_usage_error("sync", "unknown option '%s'", arg);
        } else if (id == NULL) {
            id = arg;
            continue;
        } else {
            return cli_usage_error("sync", "unexpected argument '%s'", arg);
        }
        if (i + 1 >= argc || !cli_parse_date(argv[i + 1], target))
            return cli_usage_error("sync", "%s needs a date as YYYY-MM-DD", arg);
        i++;
    }
    if (id == NULL)
        return cli_usage_error("sync", "sync needs CONNECTION_ID");
    if (have_date && (have_from || have_to))
        return cli_usage_error("sync", "use --date or --from/--to, not both");
    if (have_from != have_to)
        return cli_usage_error("sync", "--from and --to go together");
    if (have_date) {
        req.to = req.from;
        req.today = false;
    } else if (have_from) {
        if (pms_date_compare(req.from, req.to) > 0)
            return cli_usage_error("sync", "--from must not be after --to");
        req.today = false;
    }
    req.connection_id = id;

    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, false, &failed);
    if (failed)
        return EXIT_FAIL;

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    pms_sync_context ctx = {
        .store = st,
        .ring = ring,
        .session = cli_session_options(),
        .on_progress = !json && isatty(STDERR_FILENO) ? show_progress : NULL,
    };
    ctx.session.cancel = &stop_requested;
    pms_sync_result result;
    pms_error err = {0};
    int rc = pms_sync_run(&ctx, &req, &result, &err);
    if (ctx.on_progress)
        fputs("\n", stderr);
    if (result.sync_log_id[0] == '\0') {
        /* The sync could not start at all. */
        cli_report("cannot sync", &err);
        return err.code == PMS_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    }
    if (json) {
        cli_print_json(pms_sync_result_to_json(id, &result));
    } else {
        char from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN];
        pms_date_format(result.from, from);
        pms_date_format(result.to, to);
        printf("Sync %s (%s) for %s%s%s: %ld fetched, %ld created, %ld updated, %ld unchanged, "
               "%ld skipped (%ld malformed), %ld removed; %ld requests in %.1f s.\n",
               result.status, result.sync_type, from, strcmp(from, to) ? " to " : "",
               strcmp(from, to) ? to : "", result.counts.fetched, result.counts.created,
               result.counts.updated, result.counts.unchanged, result.counts.skipped,
               result.counts.invalid, result.counts.removed, result.http.requests,
               (double)result.duration_ms / 1000.0);
        if (result.error[0])
            printf("  %s\n", result.error);
    }
    /* An incremental sync is never a complete sweep: it succeeds when it read everything. */
    bool read_all =
        result.complete_sweep || (strcmp(result.sync_type, "incremental") == 0 && rc == PMS_OK);
    return read_all ? EXIT_OK : EXIT_FAIL;
}
