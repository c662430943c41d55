#include "cmd/cli.h"

#include "pmsync/accounts.h"
#include "pmsync/audit.h"
#include "pmsync/mappings.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

pms_store *cli_store(cli *c)
{
    if (c->store)
        return c->store;
    pms_error err = {0};
    if (pms_store_open(c->db_location, true, &c->store, &err) != PMS_OK) {
        cli_report("cannot open the database", &err);
        c->store = NULL;
    }
    return c->store;
}

char *cli_key_file_path(const cli *c)
{
    const char *explicit_file = getenv("PMSYNC_SECRET_KEY_FILE");
    if (explicit_file && explicit_file[0])
        return strdup(explicit_file);
    const char *location = c->db_location;
    if (strncmp(location, "sqlite:", 7) == 0)
        location += 7;
    if (strstr(location, "://") != NULL || strcmp(location, ":memory:") == 0)
        return strdup("pmsync.key");
    char *copy = strdup(location);
    if (copy == NULL)
        return NULL;
    char *path = NULL;
    if (asprintf(&path, "%s/pmsync.key", dirname(copy)) < 0)
        path = NULL;
    free(copy);
    return path;
}

const pms_keyring *cli_keyring(cli *c, bool create, bool *failed)
{
    *failed = false;
    if (c->ring)
        return c->ring;
    const char *env = getenv("PMSYNC_SECRET_KEY");
    char *file = cli_key_file_path(c);
    if (file == NULL) {
        cli_error("out of memory");
        *failed = true;
        return NULL;
    }
    struct stat sb;
    bool have_env = env && env[0];
    bool have_file = stat(file, &sb) == 0;
    if (!have_env && !have_file && !create) {
        free(file);
        return NULL;
    }
    pms_error err = {0};
    if (pms_keyring_load(have_env ? env : NULL, file, create, &c->ring, &err) != PMS_OK) {
        cli_report("cannot load the encryption key", &err);
        free(file);
        *failed = true;
        return NULL;
    }
    if (!have_env && !have_file)
        fprintf(stderr,
                "pmsctl: created encryption key file %s (mode 0600). Keep it safe and back it "
                "up: the stored PMS credentials cannot be read without it.\n",
                file);
    free(file);
    return c->ring;
}

void cli_close(cli *c)
{
    pms_store_close(c->store);
    c->store = NULL;
    pms_keyring_free(c->ring);
    c->ring = NULL;
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pmsctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_report(const char *doing, const pms_error *err)
{
    if (err->message[0])
        cli_error("%s: %s", doing, err->message);
    else
        cli_error("%s (%s)", doing, pms_status_name(err->code));
    if (err->detail[0])
        fprintf(stderr, "  (%s)\n", err->detail);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pmsctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'pmsctl %s --help'.\n", command);
    va_end(ap);
    return EXIT_USAGE;
}

void cli_print_json(json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(value);
    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
        free(text);
    }
}

bool cli_parse_date(const char *text, pms_date *out)
{
    return text && pms_date_parse(text, out, NULL) == PMS_OK;
}

bool cli_take_account(cli *c, int argc, char **argv, int *i)
{
    const char *value = NULL;
    if (!cli_take_option(argc, argv, i, "account", &value))
        return false;
    c->account_id = value; /* NULL (missing value) is reported by cli_account_exists */
    return true;
}

bool cli_account_exists(cli *c)
{
    if (c->account_id == NULL || c->account_id[0] == '\0') {
        cli_error("--account needs an account id (see 'pmsctl account list')");
        return false;
    }
    pms_store *st = cli_store(c);
    if (st == NULL)
        return false;
    pms_account a = {0};
    pms_error err = {0};
    int rc = pms_account_get(st, c->account_id, &a, &err);
    pms_account_clear(&a);
    if (rc == PMS_ERR_NOT_FOUND)
        cli_error("no account %s (see 'pmsctl account list')", c->account_id);
    else if (rc != PMS_OK)
        cli_report("cannot read the account", &err);
    return rc == PMS_OK;
}

bool cli_connection(cli *c, const char *id, pms_connection *out)
{
    pms_store *st = cli_store(c);
    if (st == NULL)
        return false;
    pms_error err = {0};
    if (st->ops->connection_get(st, id, out, &err) != PMS_OK) {
        cli_report("cannot read the connection", &err);
        return false;
    }
    return true;
}

pms_session_options cli_session_options(void)
{
    pms_session_options o = {0};
    return o;
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

bool cli_refresh_catalog(cli *c, const pms_connection *conn, bool practitioners, bool types)
{
    pms_store *st = cli_store(c);
    if (st == NULL)
        return false;
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, false, &failed);
    if (failed)
        return false;
    pms_error err = {0};
    pms_session_options opts = cli_session_options();
    bool listed = true;
    if (pms_catalog_refresh(st, ring, conn, &opts, practitioners, types, &listed, &err) != PMS_OK) {
        cli_report("cannot read from the PMS", &err);
        return false;
    }
    if (!listed)
        fprintf(stderr,
                "pmsctl: note: %s lists no practitioners here; each appears once a sync has "
                "seen one of their appointments.\n",
                pms_adapter_find(conn->pms_type) ? pms_adapter_find(conn->pms_type)->display_name
                                                 : conn->pms_type);
    return true;
}

bool cli_take_option(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, len) != 0)
        return false;
    if (arg[2 + len] == '=') {
        *value = arg + 3 + len;
        return true;
    }
    if (arg[2 + len] != '\0')
        return false;
    *value = *i + 1 < argc ? argv[++*i] : NULL;
    return true;
}

int cli_take_list_args(int argc, char **argv, const char *command, const char **account, bool *json)
{
    *account = NULL;
    *json = false;
    for (int i = 0; i < argc; i++) {
        const char *value;
        if (strcmp(argv[i], "--json") == 0) {
            *json = true;
        } else if (cli_take_option(argc, argv, &i, "account", &value)) {
            if (value == NULL)
                return cli_usage_error(command, "--account needs an account id");
            *account = value;
        } else {
            return cli_usage_error(command, "unexpected argument '%s'", argv[i]);
        }
    }
    if (*account == NULL)
        return cli_usage_error(command, "list needs --account");
    return EXIT_OK;
}

static bool append_audit(cli *c, const char *account_id, const char *action, const char *resource,
                         bool in_transaction)
{
    pms_store *st = cli_store(c);
    if (st == NULL)
        return false;
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, true, &failed);
    if (ring == NULL)
        return false;
    pms_audit_event e = {
        .account_id = account_id,
        .actor_role = "system",
        .action = action,
        .resource = resource,
        .at = PMS_INSTANT_NONE,
    };
    pms_error err = {0};
    int rc = in_transaction ? pms_audit_append_tx(st, ring, &e, NULL, &err)
                            : pms_audit_append(st, ring, &e, &err);
    if (rc != PMS_OK) {
        cli_report("cannot record this in the audit log", &err);
        return false;
    }
    return true;
}

bool cli_audit(cli *c, const char *account_id, const char *action, const char *resource)
{
    return append_audit(c, account_id, action, resource, false);
}

bool cli_audit_tx(cli *c, const char *account_id, const char *action, const char *resource)
{
    return append_audit(c, account_id, action, resource, true);
}
