/* pmsctl user add|list|disable|password */
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "pmsync/accounts.h"
#include "pmsync/users.h"

static const char help_text[] =
    "Usage:\n"
    "  pmsctl user add --account ACCOUNT_ID --username NAME --role admin|staff|agent\n"
    "                  [--password-stdin]\n"
    "      Adds a user who signs in to the web UI, and prints the user's id alone on stdout.\n"
    "  pmsctl user list --account ACCOUNT_ID [--json]\n"
    "      The account's users: id, username, role, when created, whether disabled.\n"
    "  pmsctl user disable USERNAME\n"
    "      The user can no longer sign in; their browser sessions stop at once.\n"
    "  pmsctl user password USERNAME [--password-stdin]\n"
    "      Sets a new password.\n"
    "\n"
    "Usernames are 3 to 64 characters of a-z 0-9 . _ @ - (stored in lower case), unique across\n"
    "the database. Passwords are at least 12 characters. Without --password-stdin the password\n"
    "is asked twice on the terminal, without echo; with it, the first line of stdin is the\n"
    "password. Passwords are stored as scrypt hashes, never as text.\n";

/* One line from fd 0 without its line end into buf; false at end of input or when too long. */
static bool read_line(char *buf, size_t len)
{
    size_t n = 0;
    char ch;
    ssize_t got;
    while ((got = read(STDIN_FILENO, &ch, 1)) == 1 && ch != '\n') {
        if (n + 1 >= len)
            return false;
        buf[n++] = ch;
    }
    if (got < 0 || (got == 0 && n == 0))
        return false;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return true;
}

/* Asks on the terminal with echo off. */
static bool ask_hidden(const char *prompt, char *buf, size_t len)
{
    struct termios saved, quiet;
    if (tcgetattr(STDIN_FILENO, &saved) != 0)
        return false;
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    fputs(prompt, stderr);
    fflush(stderr);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
        return false;
    bool ok = read_line(buf, len);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    return ok;
}

/* The new password, from stdin (--password-stdin) or asked twice on the terminal. Prints why
 * not and returns an exit status other than EXIT_OK when it cannot be had. */
static int get_password(bool from_stdin, char *buf, size_t len)
{
    if (from_stdin) {
        if (!read_line(buf, len)) {
            cli_error("no password on stdin (one line, at most %d bytes)", PMS_PASSWORD_MAX);
            return EXIT_USAGE;
        }
        return EXIT_OK;
    }
    if (!isatty(STDIN_FILENO)) {
        cli_error("stdin is not a terminal: give the password with --password-stdin");
        return EXIT_USAGE;
    }
    char again[PMS_PASSWORD_MAX + 2];
    int status = EXIT_OK;
    if (!ask_hidden("New password: ", buf, len) ||
        !ask_hidden("The same password again: ", again, sizeof again)) {
        cli_error("no password read");
        status = EXIT_FAIL;
    } else if (strcmp(buf, again) != 0) {
        cli_error("the two passwords differ");
        status = EXIT_USAGE;
    }
    explicit_bzero(again, sizeof again);
    return status;
}

static int add(cli *c, int argc, char **argv)
{
    const char *account = NULL, *username = NULL, *role_name = NULL;
    bool from_stdin = false;
    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        const char **target = NULL;
        if (strcmp(argv[i], "--password-stdin") == 0) {
            from_stdin = true;
            continue;
        }
        if (cli_take_option(argc, argv, &i, "account", &value))
            target = &account;
        else if (cli_take_option(argc, argv, &i, "username", &value))
            target = &username;
        else if (cli_take_option(argc, argv, &i, "role", &value))
            target = &role_name;
        else
            return cli_usage_error("user", "unexpected argument '%s'", argv[i]);
        if (value == NULL)
            return cli_usage_error("user", "%s needs a value", argv[i]);
        *target = value;
    }
    if (account == NULL || username == NULL || role_name == NULL)
        return cli_usage_error("user", "add needs --account, --username and --role");
    pms_role role;
    if (pms_role_parse(role_name, &role) != PMS_OK)
        return cli_usage_error("user", "--role must be admin, staff or agent");
    char name[PMS_USERNAME_MAX + 1];
    pms_error err = {0};
    if (pms_username_normalize(username, name, &err) != PMS_OK)
        return cli_usage_error("user", "%s", err.message);
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    char password[PMS_PASSWORD_MAX + 2];
    int status = get_password(from_stdin, password, sizeof password);
    if (status != EXIT_OK)
        return status;
    pms_user u = {0};
    char resource[80];
    /* The user and its audit record commit together. */
    if (st->ops->begin(st, &err) != PMS_OK ||
        pms_user_create(st, account, name, password, role, &u, &err) != PMS_OK) {
        st->ops->rollback(st);
        cli_report("cannot add the user", &err);
        status = err.code == PMS_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    } else if (snprintf(resource, sizeof resource, "users/%s", u.id) < 0 ||
               !cli_audit_tx(c, account, "user.create", resource) ||
               st->ops->commit(st, &err) != PMS_OK) {
        st->ops->rollback(st);
        if (err.code)
            cli_report("cannot add the user", &err);
        status = EXIT_FAIL;
    } else {
        printf("%s\n", u.id);
        fprintf(stderr, "pmsctl: user %s (%s) can sign in to account %s\n", u.username,
                pms_role_name(u.role), u.account_id);
    }
    explicit_bzero(password, sizeof password);
    pms_user_clear(&u);
    return status;
}

static int list(cli *c, int argc, char **argv)
{
    const char *account;
    bool json;
    int usage = cli_take_list_args(argc, argv, "user", &account, &json);
    if (usage != EXIT_OK)
        return usage;
    c->account_id = account;
    if (!cli_account_exists(c))
        return EXIT_FAIL;
    pms_user_array users = {0};
    pms_error err = {0};
    if (pms_user_list(c->store, account, &users, &err) != PMS_OK) {
        cli_report("cannot list users", &err);
        return EXIT_FAIL;
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < users.count; i++)
            json_array_append_new(arr, pms_user_to_json(&users.items[i]));
        cli_print_json(arr);
    } else if (users.count == 0) {
        printf("No users. Add one with 'pmsctl user add --account %s --username NAME --role "
               "ROLE'.\n",
               account);
    } else {
        printf("%-36s  %-5s  %-24s  %-8s  %s\n", "ID", "ROLE", "CREATED", "STATUS", "USERNAME");
        for (size_t i = 0; i < users.count; i++) {
            const pms_user *u = &users.items[i];
            char created[PMS_TIME_BUFLEN];
            pms_format_utc(u->created_at, created);
            printf("%-36s  %-5s  %-24s  %-8s  %s\n", u->id, pms_role_name(u->role), created,
                   u->disabled_at == PMS_INSTANT_NONE ? "active" : "disabled", u->username);
        }
    }
    pms_user_array_clear(&users);
    return EXIT_OK;
}

/* disable and password: USERNAME [--password-stdin] */
static int change(cli *c, int argc, char **argv, bool password_change)
{
    const char *username = NULL;
    bool from_stdin = false;
    for (int i = 0; i < argc; i++) {
        if (password_change && strcmp(argv[i], "--password-stdin") == 0)
            from_stdin = true;
        else if (strncmp(argv[i], "--", 2) == 0 || username != NULL)
            return cli_usage_error("user", "unexpected argument '%s'", argv[i]);
        else
            username = argv[i];
    }
    if (username == NULL)
        return cli_usage_error("user", "%s needs USERNAME",
                               password_change ? "password" : "disable");
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    char password[PMS_PASSWORD_MAX + 2] = "";
    int status = password_change ? get_password(from_stdin, password, sizeof password) : EXIT_OK;
    if (status != EXIT_OK)
        return status;
    pms_user u = {0};
    pms_error err = {0};
    char resource[80];
    const char *doing = password_change ? "cannot set the password" : "cannot disable the user";
    int rc = st->ops->begin(st, &err);
    if (rc == PMS_OK)
        rc = password_change ? pms_user_set_password(st, username, password, &u, &err)
                             : pms_user_disable(st, username, &u, &err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        cli_report(doing, &err);
        status = rc == PMS_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    } else if (snprintf(resource, sizeof resource, "users/%s", u.id) < 0 ||
               !cli_audit_tx(c, u.account_id, password_change ? "user.password" : "user.disable",
                             resource) ||
               st->ops->commit(st, &err) != PMS_OK) {
        st->ops->rollback(st);
        if (err.code)
            cli_report(doing, &err);
        status = EXIT_FAIL;
    } else if (password_change) {
        printf("Set a new password for %s.\n", u.username);
    } else {
        printf("Disabled %s: they can no longer sign in.\n", u.username);
    }
    explicit_bzero(password, sizeof password);
    pms_user_clear(&u);
    return status;
}

int cmd_user(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(help_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") == 0)
        return add(c, argc - 2, argv + 2);
    if (strcmp(sub, "list") == 0)
        return list(c, argc - 2, argv + 2);
    if (strcmp(sub, "disable") == 0)
        return change(c, argc - 2, argv + 2, false);
    if (strcmp(sub, "password") == 0)
        return change(c, argc - 2, argv + 2, true);
    return cli_usage_error("user", "unknown subcommand '%s'", sub);
}
