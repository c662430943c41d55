/* Test helpers for pmsd: start it as a child process (PMSD_BIN) on an ephemeral port with its own
 * database and key file, call its API, stop it. The child dies with the test process. */
#ifndef PMSYNC_TESTS_PMSD_PROC_H
#define PMSYNC_TESTS_PMSD_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox_proc.h"

typedef struct tu_pmsd {
    pid_t pid;
    int port;
    char dir[512];      /* holds pmsync.db, pmsync.key, pmsd.log (stderr), pmsd.out */
    char base[64];      /* http://127.0.0.1:PORT */
    char log_path[600]; /* pmsd's stderr: its JSON log lines */
} tu_pmsd;

/* Starts pmsd with its files in dir and extra arguments (NULL-terminated: "--set", "k=v", ...).
 * Waits until it listens. 0 on success. */
int tu_pmsd_start(tu_pmsd *d, const char *dir, const char *const *extra);
/* Sends sig and waits up to timeout_ms (times tu_time_factor()); the wait status, or -1 after
 * having to SIGKILL. */
int tu_pmsd_signal_and_wait(tu_pmsd *d, int sig, int timeout_ms);
/* SIGTERM; 0 when pmsd exited 0 (under ASan: without leaks). */
int tu_pmsd_stop(tu_pmsd *d);

/* Runs pmsctl (PMSCTL_BIN) against d's database; its stdout (trimmed) into out. The exit
 * status. */
int tu_pmsctl(const char *dir, char *out, size_t out_len, const char *const *args);
/* The same with input on its stdin (NULL: stdin is inherited). */
int tu_pmsctl_input(const char *dir, const char *input, char *out, size_t out_len,
                    const char *const *args);

/* An API call with a key (NULL: none) and a JSON body (NULL: none). */
void tu_api(const tu_pmsd *d, const char *method, const char *key, const char *body,
            tu_http_result *out, const char *path_fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
