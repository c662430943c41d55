/* pmsctl db status | migrate | copy --to LOCATION */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"

static const char help_text[] =
    "Usage: pmsctl db status [--json]\n"
    "       pmsctl db migrate\n"
    "       pmsctl db copy --to LOCATION [--json]\n"
    "\n"
    "The database itself (--db or PMSYNC_DB: a SQLite file, or postgres://...).\n"
    "\n"
    "  status   its backend, schema version and the migrations this program would apply\n"
    "  migrate  applies those migrations (each in its own transaction; processes migrating at\n"
    "           once take turns). pmsd and every other command migrate on their own as well.\n"
    "  copy     copies every row of the database into another one at LOCATION: a new, empty\n"
    "           database of either backend, migrated first. One transaction: all or nothing.\n"
    "           Stop pmsd first; keep using the same key file (PMSYNC_SECRET_KEY_FILE): the\n"
    "           connections' secrets are copied sealed. docs/postgres.md shows the whole move.\n";

static int open_or_report(const char *location, bool migrate, pms_store **st)
{
    pms_error err = {0};
    if (pms_store_open(location, migrate, st, &err) != PMS_OK) {
        cli_report("cannot open the database", &err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int db_status(cli *c, bool json)
{
    pms_store *st = NULL;
    if (open_or_report(c->db_location, false, &st) != EXIT_OK)
        return EXIT_FAIL;
    int version = 0;
    pms_error err = {0};
    int rc = st->ops->schema_version(st, &version, &err);
    char location[1024];
    pms_store_location_redacted(c->db_location, location, sizeof location);
    int latest = st->ops->schema_latest;
    if (rc != PMS_OK) {
        cli_report("cannot read the schema version", &err);
    } else if (json) {
        cli_print_json(json_pack("{s:s, s:s, s:i, s:i, s:i}", "backend", st->ops->name, "location",
                                 location, "schemaVersion", version, "latestVersion", latest,
                                 "pending", version < latest ? latest - version : 0));
    } else {
        printf("backend:  %s\nlocation: %s\nschema:   version %d of %d", st->ops->name, location,
               version, latest);
        if (version < latest)
            printf(" (%d migration%s to apply: pmsctl db migrate)\n", latest - version,
                   latest - version == 1 ? "" : "s");
        else if (version > latest)
            printf(" (newer than this program: upgrade pmsync)\n");
        else
            printf(" (up to date)\n");
    }
    pms_store_close(st);
    return rc == PMS_OK ? EXIT_OK : EXIT_FAIL;
}

static int db_migrate(cli *c)
{
    pms_store *st = NULL;
    if (open_or_report(c->db_location, false, &st) != EXIT_OK)
        return EXIT_FAIL;
    int before = 0, after = 0;
    pms_error err = {0};
    int rc = st->ops->schema_version(st, &before, &err);
    if (rc == PMS_OK)
        rc = st->ops->migrate(st, &err);
    if (rc == PMS_OK)
        rc = st->ops->schema_version(st, &after, &err);
    if (rc != PMS_OK)
        cli_report("cannot migrate the database", &err);
    else if (after == before)
        printf("schema version %d: up to date\n", after);
    else
        printf("schema version %d -> %d (%d migration%s applied)\n", before, after, after - before,
               after - before == 1 ? "" : "s");
    pms_store_close(st);
    return rc == PMS_OK ? EXIT_OK : EXIT_FAIL;
}

typedef struct copy_report {
    json_t *tables;
    long long rows;
} copy_report;

static void copied(void *ctx, const char *table, long long rows)
{
    copy_report *r = ctx;
    json_object_set_new(r->tables, table, json_integer(rows));
    r->rows += rows;
}

static int db_copy(cli *c, const char *to, bool json)
{
    if (strcmp(to, c->db_location) == 0)
        return cli_usage_error("db", "--to names the database itself");
    pms_store *from = NULL, *dest = NULL;
    if (open_or_report(c->db_location, true, &from) != EXIT_OK)
        return EXIT_FAIL;
    if (open_or_report(to, true, &dest) != EXIT_OK) {
        pms_store_close(from);
        return EXIT_FAIL;
    }
    copy_report report = {.tables = json_object()};
    pms_error err = {0};
    int rc = pms_store_copy(from, dest, copied, &report, &err);
    char from_text[1024], to_text[1024];
    pms_store_location_redacted(c->db_location, from_text, sizeof from_text);
    pms_store_location_redacted(to, to_text, sizeof to_text);
    if (rc != PMS_OK) {
        cli_report("cannot copy the database (the destination is unchanged)", &err);
    } else if (json) {
        cli_print_json(json_pack("{s:s, s:s, s:O, s:I}", "from", from_text, "to", to_text, "tables",
                                 report.tables, "rows", (json_int_t)report.rows));
    } else {
        const char *table;
        json_t *n;
        json_object_foreach(report.tables, table, n)
            printf("%-24s %10lld rows\n", table, (long long)json_integer_value(n));
        printf("copied %lld rows from %s (%s) to %s (%s)\n", report.rows, from_text,
               from->ops->name, to_text, dest->ops->name);
    }
    json_decref(report.tables);
    pms_store_close(from);
    pms_store_close(dest);
    return rc == PMS_OK ? EXIT_OK : EXIT_FAIL;
}

int cmd_db(cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help_text, stdout);
        return EXIT_OK;
    }
    if (argc < 2)
        return cli_usage_error("db", "db needs status, migrate or copy");
    const char *sub = argv[1], *to = NULL;
    bool json = false;
    for (int i = 2; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (cli_take_option(argc, argv, &i, "to", &value)) {
            if (value == NULL || value[0] == '\0')
                return cli_usage_error("db", "--to needs a location");
            to = value;
        } else {
            return cli_usage_error("db", "unexpected argument '%s'", argv[i]);
        }
    }
    if (strcmp(sub, "status") == 0 && to == NULL)
        return db_status(c, json);
    if (strcmp(sub, "migrate") == 0 && to == NULL && !json)
        return db_migrate(c);
    if (strcmp(sub, "copy") == 0) {
        if (to == NULL)
            return cli_usage_error("db", "db copy needs --to LOCATION");
        return db_copy(c, to, json);
    }
    return cli_usage_error("db", "unknown or unfitting arguments for 'db %s'", sub);
}
