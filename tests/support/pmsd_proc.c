#include "pmsd_proc.h"
#include "testdb.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void child_env(const char *dir, char *db, char *key, size_t len)
{
    const char *location = tu_db_location(dir);
    snprintf(db, len, "PMSYNC_DB=%s", location ? location : "");
    snprintf(key, len, "PMSYNC_SECRET_KEY_FILE=%s/pmsync.key", dir);
}

int tu_pmsd_start(tu_pmsd *d, const char *dir, const char *const *extra)
{
    const char *bin = getenv("PMSD_BIN");
    if (bin == NULL || *bin == '\0')
        return -1;
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    snprintf(d->log_path, sizeof d->log_path, "%s/pmsd.log", dir);
    char port_file[600], out_file[600], port_set[640];
    snprintf(port_file, sizeof port_file, "%s/pmsd.port", dir);
    snprintf(out_file, sizeof out_file, "%s/pmsd.out", dir);
    snprintf(port_set, sizeof port_set, "port_file=%s", port_file);
    unlink(port_file);
    const char *argv[64];
    int argc = 0;
    argv[argc++] = bin;
    argv[argc++] = "--set";
    argv[argc++] = "listen=127.0.0.1:0";
    argv[argc++] = "--set";
    argv[argc++] = port_set;
    for (int i = 0; extra && extra[i] && argc < 62; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    char db[900], key[900];
    child_env(dir, db, key, sizeof db);
    const char *level = getenv("PMSD_TEST_LOG_LEVEL");
    char level_env[64];
    snprintf(level_env, sizeof level_env, "PMSYNC_LOG_LEVEL=%s", level ? level : "info");
    const char *asan = getenv("ASAN_OPTIONS"), *ubsan = getenv("UBSAN_OPTIONS"),
               *lsan = getenv("LSAN_OPTIONS"), *tsan = getenv("TSAN_OPTIONS");
    char asan_env[512], ubsan_env[512], lsan_env[512], tsan_env[512];
    snprintf(asan_env, sizeof asan_env, "ASAN_OPTIONS=%s", asan ? asan : "");
    snprintf(ubsan_env, sizeof ubsan_env, "UBSAN_OPTIONS=%s", ubsan ? ubsan : "");
    snprintf(lsan_env, sizeof lsan_env, "LSAN_OPTIONS=%s", lsan ? lsan : "");
    snprintf(tsan_env, sizeof tsan_env, "TSAN_OPTIONS=%s", tsan ? tsan : "");
    const char *envp[] = {
        db, key, level_env, asan_env, ubsan_env, lsan_env, tsan_env, "PATH=/usr/bin:/bin", NULL};
    pid_t parent = getpid();
    d->pid = fork();
    if (d->pid < 0) {
        d->pid = 0;
        return -1;
    }
    if (d->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int out = open(out_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int err = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        tu_execve(bin, argv, envp);
        _exit(127);
    }
    for (int waited = 0; waited < 30000 * tu_time_factor(); waited += 20) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            if (fscanf(f, "%d", &d->port) != 1)
                d->port = 0;
            fclose(f);
        }
        if (d->port > 0)
            break;
        int status;
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = 0;
            return -1;
        }
        tu_sleep_ms(20);
    }
    if (d->port <= 0)
        return -1;
    snprintf(d->base, sizeof d->base, "http://127.0.0.1:%d", d->port);
    return 0;
}

int tu_pmsd_signal_and_wait(tu_pmsd *d, int sig, int timeout_ms)
{
    if (d->pid <= 0)
        return 0;
    kill(d->pid, sig);
    int status = 0;
    for (int waited = 0; waited < timeout_ms * tu_time_factor(); waited += 20) {
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = 0;
            return status;
        }
        tu_sleep_ms(20);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &status, 0);
    d->pid = 0;
    return -1;
}

int tu_pmsd_stop(tu_pmsd *d)
{
    int status = tu_pmsd_signal_and_wait(d, SIGTERM, 30000);
    bool ok = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) {
        fprintf(stderr, "pmsd did not stop cleanly (status %d); its log:\n", status);
        FILE *f = fopen(d->log_path, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f))
            fputs(line, stderr);
        if (f)
            fclose(f);
    }
    return ok ? 0 : -1;
}

int tu_pmsctl(const char *dir, char *out, size_t out_len, const char *const *args)
{
    return tu_pmsctl_input(dir, NULL, out, out_len, args);
}

int tu_pmsctl_input(const char *dir, const char *input, char *out, size_t out_len,
                    const char *const *args)
{
    const char *bin = getenv("PMSCTL_BIN");
    if (bin == NULL)
        return -1;
    int pipefd[2], infd[2] = {-1, -1};
    if (pipe(pipefd) != 0)
        return -1;
    if (input && pipe(infd) != 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    const char *argv[32];
    int argc = 0;
    argv[argc++] = bin;
    for (int i = 0; args[i] && argc < 31; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    char db[900], key[900];
    child_env(dir, db, key, sizeof db);
    const char *envp[] = {db, key, "PMSYNC_LOG_LEVEL=warn", "PATH=/usr/bin:/bin", NULL};
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        if (input) {
            dup2(infd[0], 0);
            close(infd[0]);
            close(infd[1]);
        }
        tu_execve(bin, argv, envp);
        _exit(127);
    }
    close(pipefd[1]);
    if (input) {
        close(infd[0]);
        void (*saved)(int) = signal(SIGPIPE, SIG_IGN); /* pmsctl may stop before reading */
        size_t left = strlen(input);
        for (const char *p = input; left > 0;) {
            ssize_t w = write(infd[1], p, left);
            if (w <= 0)
                break;
            p += w;
            left -= (size_t)w;
        }
        close(infd[1]);
        signal(SIGPIPE, saved);
    }
    size_t len = 0;
    ssize_t n;
    char sink[4096];
    while ((n = read(pipefd[0], len + 1 < out_len ? out + len : sink,
                     len + 1 < out_len ? out_len - len - 1 : sizeof sink)) > 0) {
        if (len + 1 < out_len)
            len += (size_t)n;
    }
    close(pipefd[0]);
    if (out_len > 0) {
        out[len < out_len ? len : out_len - 1] = '\0';
        while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
            out[--len] = '\0';
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void tu_api(const tu_pmsd *d, const char *method, const char *key, const char *body,
            tu_http_result *out, const char *path_fmt, ...)
{
    char url[2048];
    int n = snprintf(url, sizeof url, "%s", d->base);
    va_list ap;
    va_start(ap, path_fmt);
    vsnprintf(url + n, sizeof url - (size_t)n, path_fmt, ap);
    va_end(ap);
    char auth[256];
    const char *headers[3] = {NULL, NULL, NULL};
    int h = 0;
    if (key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        headers[h++] = auth;
    }
    if (body)
        headers[h++] = "Content-Type: application/json";
    tu_http(method, url, headers, body, out);
}
