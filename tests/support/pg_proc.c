#include "pg_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SUPERUSER "pmsync"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool executable(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, X_OK) == 0;
}

/* Where initdb and postgres are. */
static bool find_bindir(char *out, size_t len)
{
    const char *env = getenv("PMSYNC_TEST_PG_BINDIR");
    if (env && env[0]) {
        snprintf(out, len, "%s", env);
        return executable(out, "postgres") && executable(out, "initdb");
    }
    int best = -1;
    DIR *d = opendir("/usr/lib/postgresql");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        int version = atoi(e->d_name);
        char bin[300];
        snprintf(bin, sizeof bin, "/usr/lib/postgresql/%s/bin", e->d_name);
        if (version > best && executable(bin, "postgres") && executable(bin, "initdb")) {
            best = version;
            snprintf(out, len, "%s", bin);
        }
    }
    if (d)
        closedir(d);
    if (best >= 0)
        return true;
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin");
    bool found = false;
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        if ((found = executable(dir, "postgres") && executable(dir, "initdb")))
            snprintf(out, len, "%s", dir);
    }
    free(copy);
    return found;
}

/* The account the cluster runs as: postgres when we are root, else ourselves. */
static int cluster_user(uid_t *uid, gid_t *gid, char *why, size_t why_len)
{
    *uid = geteuid();
    *gid = getegid();
    if (*uid != 0)
        return 0;
    struct passwd *pw = getpwnam("postgres");
    if (pw == NULL) {
        snprintf(why, why_len,
                 "running as root and there is no 'postgres' user to run "
                 "PostgreSQL as (install the postgresql package)");
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* In a child: become the cluster's user, with output to log. Exits on failure. */
static void become(uid_t uid, gid_t gid, const char *log)
{
    if (getuid() != uid && (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0))
        _exit(126);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        _exit(126);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0)
        dup2(null, 0);
    /* The test's libpq settings are not the cluster's. */
    unsetenv("PGHOST");
    unsetenv("PGPORT");
    unsetenv("PGDATA");
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port > 0 ? port : 54321;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void tail_of(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "r");
    char line[512] = "", last[512] = "";
    while (f && fgets(line, sizeof line, f))
        if (line[0] != '\n')
            snprintf(last, sizeof last, "%s", line);
    if (f)
        fclose(f);
    last[strcspn(last, "\n")] = '\0';
    snprintf(why, why_len, "%s (%s)", last[0] ? last : "no output", path);
}

static int run_initdb(tu_pg *pg, uid_t uid, gid_t gid, char *why, size_t why_len)
{
    char data[300], log[300], initdb[300];
    snprintf(data, sizeof data, "%s/data", pg->dir);
    snprintf(log, sizeof log, "%s/initdb.log", pg->dir);
    snprintf(initdb, sizeof initdb, "%s/initdb", pg->bindir);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        become(uid, gid, log);
        execl(initdb, initdb, "-D", data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
              "--no-locale", "--no-sync", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    tail_of(log, why, why_len);
    return -1;
}

/* The guardian: starts postgres, then waits for its pipe to close (the test stopped it, exited
 * or died) and shuts everything down. Never returns. */
static void guardian(tu_pg *pg, int keepalive_read, uid_t uid, gid_t gid)
{
    setsid(); /* outlives a kill of the test's process group */
    /* Hold nothing of the test's but the keepalive: a pipe the test is reading when the cluster
     * starts (a child's output) must see its end when that child exits. */
    if (keepalive_read != 3) {
        dup2(keepalive_read, 3);
        keepalive_read = 3;
    }
    fcntl(3, F_SETFD, FD_CLOEXEC);
    close_range(4, ~0U, 0);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        close(null);
    }
    char data[300], log[300], postgres[300], port[16], sock[320];
    snprintf(data, sizeof data, "%s/data", pg->dir);
    snprintf(log, sizeof log, "%s/postgres.log", pg->dir);
    snprintf(postgres, sizeof postgres, "%s/postgres", pg->bindir);
    snprintf(port, sizeof port, "port=%d", pg->port);
    snprintf(sock, sizeof sock, "unix_socket_directories=%s", pg->sock);
    pid_t server = fork();
    if (server == 0) {
        become(uid, gid, log);
        prctl(PR_SET_PDEATHSIG, SIGINT); /* after the change of user, which clears it */
        execl(postgres, postgres, "-D", data, "-c", "listen_addresses=", "-c", sock, "-c", port,
              "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
              "max_connections=300", "-c", "log_min_messages=warning", "-c",
              "logging_collector=off", (char *)NULL);
        _exit(127);
    }
    for (;;) {
        char byte;
        ssize_t n = read(keepalive_read, &byte, 1);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        break;
    }
    if (server > 0) {
        kill(server, SIGINT); /* fast shutdown */
        int status, waited = 0;
        while (waitpid(server, &status, WNOHANG) == 0) {
            if (waited == 20000)
                kill(server, SIGQUIT);
            if (waited == 30000)
                kill(server, SIGKILL);
            sleep_ms(20);
            waited += 20;
        }
    }
    nftw(pg->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    _exit(0);
}

void tu_pg_location(const tu_pg *pg, const char *db, char *out, size_t len)
{
    snprintf(out, len, "postgresql:///%s?host=%s&port=%d&user=" SUPERUSER, db, pg->sock, pg->port);
}

static int wait_ready(tu_pg *pg, char *why, size_t why_len)
{
    char location[512];
    tu_pg_location(pg, "postgres", location, sizeof location);
    for (int waited = 0; waited < 60000; waited += 50) {
        if (PQping(location) == PQPING_OK)
            return 0;
        int status;
        if (waitpid(pg->guardian, &status, WNOHANG) == pg->guardian) {
            pg->guardian = 0;
            break;
        }
        sleep_ms(50);
    }
    char log[300];
    snprintf(log, sizeof log, "%s/postgres.log", pg->dir);
    tail_of(log, why, why_len);
    return -1;
}

int tu_pg_start(tu_pg *pg, char *why, size_t why_len)
{
    memset(pg, 0, sizeof *pg);
    pg->keepalive = -1;
    uid_t uid;
    gid_t gid;
    if (!find_bindir(pg->bindir, sizeof pg->bindir)) {
        snprintf(why, why_len,
                 "no PostgreSQL server (initdb, postgres) found: install the "
                 "postgresql package (scripts/install-deps.sh) or set "
                 "PMSYNC_TEST_PG_BINDIR");
        return -1;
    }
    if (cluster_user(&uid, &gid, why, why_len) != 0)
        return -1;
    char tmpl[] = "/tmp/pmsync-pg-XXXXXX";
    if (mkdtemp(tmpl) == NULL) {
        snprintf(why, why_len, "mkdtemp: %s", strerror(errno));
        return -1;
    }
    snprintf(pg->dir, sizeof pg->dir, "%s", tmpl);
    snprintf(pg->sock, sizeof pg->sock, "%s/sock", pg->dir);
    char data[300];
    snprintf(data, sizeof data, "%s/data", pg->dir);
    if (mkdir(data, 0700) != 0 || mkdir(pg->sock, 0700) != 0 ||
        (uid != geteuid() && (chown(pg->dir, uid, gid) != 0 || chown(data, uid, gid) != 0 ||
                              chown(pg->sock, uid, gid) != 0))) {
        snprintf(why, why_len, "preparing %s: %s", pg->dir, strerror(errno));
        nftw(pg->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return -1;
    }
    pg->port = free_port();
    int fds[2];
    if (run_initdb(pg, uid, gid, why, why_len) != 0 || pipe2(fds, O_CLOEXEC) != 0) {
        nftw(pg->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return -1;
    }
    pg->guardian = fork();
    if (pg->guardian == 0) {
        close(fds[1]);
        guardian(pg, fds[0], uid, gid);
    }
    close(fds[0]);
    pg->keepalive = fds[1];
    if (pg->guardian < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        pg->guardian = 0;
        tu_pg_stop(pg);
        nftw(pg->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return -1;
    }
    if (wait_ready(pg, why, why_len) != 0) {
        tu_pg_stop(pg);
        return -1;
    }
    return 0;
}

int tu_pg_exec(const tu_pg *pg, const char *db, const char *sql, char *why, size_t why_len)
{
    char location[512];
    tu_pg_location(pg, db, location, sizeof location);
    PGconn *conn = PQconnectdb(location);
    int rc = -1;
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(why, why_len, "%s", PQerrorMessage(conn));
    } else {
        PGresult *res = PQexec(conn, sql);
        ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
            rc = 0;
        else
            snprintf(why, why_len, "%s", PQresultErrorMessage(res));
        PQclear(res);
    }
    PQfinish(conn);
    if (rc != 0)
        why[strcspn(why, "\n")] = '\0';
    return rc;
}

void tu_pg_stop(tu_pg *pg)
{
    if (pg->keepalive >= 0)
        close(pg->keepalive);
    pg->keepalive = -1;
    if (pg->guardian > 0)
        waitpid(pg->guardian, NULL, 0);
    pg->guardian = 0;
}
