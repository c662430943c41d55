/* Shared plumbing of pmsctl's commands: exit codes, the database and key ring, arguments,
 * output. Internal to src/cmd/. */
#ifndef PMSYNC_CMD_CLI_H
#define PMSYNC_CMD_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "pmsync/connections.h"
#include "pmsync/crypto.h"
#include "pmsync/store.h"

#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

typedef struct cli {
    const char *db_location; /* --db or PMSYNC_DB, default ./pmsync.db */
    const char *account_id;  /* commands' --account, else PMSYNC_ACCOUNT, else the default one */
    pms_store *store;        /* opened on demand */
    pms_keyring *ring;       /* loaded on demand; NULL when no key exists */
    bool ring_loaded;
} cli;

typedef int (*cli_command_fn)(cli *c, int argc, char **argv);

/* Opens (and migrates) the database; prints the error and returns NULL on failure. */
pms_store *cli_store(cli *c);
/* The key ring: PMSYNC_SECRET_KEY, else PMSYNC_SECRET_KEY_FILE, else pmsync.key beside the
 * database. With create, a missing key file is generated (0600) and announced on stderr.
 * Returns NULL (after printing why) when no key is available and create is false, or on
 * error; *failed tells the two apart. */
const pms_keyring *cli_keyring(cli *c, bool create, bool *failed);
/* The key file path pmsctl uses. Caller frees. */
char *cli_key_file_path(const cli *c);
void cli_close(cli *c);

/* Prints "pmsctl: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an error struct (message, then detail when present). */
void cli_report(const char *doing, const pms_error *err);
/* Usage error: message plus a hint to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints JSON (pretty, ordered) on stdout followed by a newline; steals the reference. */
void cli_print_json(json_t *value);

bool cli_parse_date(const char *text, pms_date *out);
/* Takes "--account ID" at argv[*i] into c->account_id (advancing *i); false when argv[*i] is
 * something else. */
bool cli_take_account(cli *c, int argc, char **argv, int *i);
/* The account exists, or prints why not. */
bool cli_account_exists(cli *c);

/* Loads a connection or prints why not. */
bool cli_connection(cli *c, const char *id, pms_connection *out);

/* Reads practitioners and/or appointment types from the PMS into the store. Prints why not. */
bool cli_refresh_catalog(cli *c, const pms_connection *conn, bool practitioners, bool types);

/* Session options for commands that talk to the PMS. */
pms_session_options cli_session_options(void);

/* The --help text of a command when argv asks for it. */
bool cli_wants_help(int argc, char **argv);

/* Whether argv[*i] is the option --name, as "--name VALUE" or "--name=VALUE". When it is, *value
 * is the value (NULL when "--name" came last) and *i has moved past it. */
bool cli_take_option(int argc, char **argv, int *i, const char *name, const char **value);

/* The arguments of '<command> list --account ACCOUNT_ID [--json]'; EXIT_OK, or EXIT_USAGE after
 * saying why. */
int cli_take_list_args(int argc, char **argv, const char *command, const char **account,
                       bool *json);

/* Appends an audit record of a pmsctl action (actor role "system", outcome 0) with the key ring
 * (created when missing). Prints why and returns false when it could not be written. */
bool cli_audit(cli *c, const char *account_id, const char *action, const char *resource);
/* The same inside the caller's open write transaction: the record commits with the change. */
bool cli_audit_tx(cli *c, const char *account_id, const char *action, const char *resource);

int cmd_connection(cli *c, int argc, char **argv);
int cmd_pair(cli *c, int argc, char **argv);
int cmd_practitioners(cli *c, int argc, char **argv);
int cmd_clinicians(cli *c, int argc, char **argv);
int cmd_types(cli *c, int argc, char **argv);
int cmd_sync(cli *c, int argc, char **argv);
int cmd_runsheet(cli *c, int argc, char **argv);
int cmd_log(cli *c, int argc, char **argv);
int cmd_key(cli *c, int argc, char **argv);
int cmd_pms(cli *c, int argc, char **argv);
int cmd_account(cli *c, int argc, char **argv);
int cmd_apikey(cli *c, int argc, char **argv);
int cmd_audit(cli *c, int argc, char **argv);
int cmd_user(cli *c, int argc, char **argv);
int cmd_db(cli *c, int argc, char **argv);

#endif
