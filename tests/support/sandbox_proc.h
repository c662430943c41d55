/* Test helpers for pms-sandbox: start it as a child process on an ephemeral port, stop it,
 * and talk HTTP to it (vendor APIs and the /_sandbox control API). Children die with the test
 * process (PR_SET_PDEATHSIG); tu_sandbox_stop_all stops whatever a failed test left running. */
#ifndef PMSYNC_TESTS_SANDBOX_PROC_H
#define PMSYNC_TESTS_SANDBOX_PROC_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct tu_sandbox {
    pid_t pid;
    int port;
    char dir[256];
    char base[64]; /* http://127.0.0.1:PORT */
} tu_sandbox;

typedef struct tu_http_result {
    long status;
    CURLcode curl_code;
    char *body;
    size_t len;
    char retry_after[128];
    char *headers; /* every response header line, "Name: value\r\n" each */
    json_t *json;  /* NULL when the body is not JSON */
} tu_http_result;

/* The value of a response header (case-insensitive name) copied into out; false when absent. */
bool tu_http_header(const tu_http_result *r, const char *name, char *out, size_t len);

void tu_sleep_ms(int ms);

/* Checkers that run the spawned programs, for every test that starts pmsd, pmsctl or
 * pms-sandbox (scripts/check_valgrind.sh, tests/meson.build's valgrind test setup):
 *   PMSYNC_TEST_WRAPPER      a command line (words separated by spaces, no quoting) put in front
 *                            of every spawned program, e.g. "/usr/bin/valgrind --leak-check=full";
 *                            unset or empty: programs run as they are.
 *   PMSYNC_TEST_TIME_FACTOR  an integer >= 1 by which the helpers' waits for children (start,
 *                            stop, HTTP timeouts) are multiplied; unset: 1.
 * tu_time_factor is that factor; tu_execve replaces the process with bin (argv[0]: its name) and
 * envp, through the wrapper when there is one. Safe in a child between fork and exec (no
 * allocation). Returns only when exec failed. */
int tu_time_factor(void);
void tu_execve(const char *bin, const char *const *argv, const char *const *envp);
/* Starts PMS_SANDBOX_BIN with extra arguments (NULL-terminated); 0 on success. */
int tu_sandbox_start(tu_sandbox *box, const char *const *extra);
/* Sends sig and waits up to 15 s; the wait status, or -1 after having to SIGKILL. */
int tu_sandbox_signal_and_wait(tu_sandbox *box, int sig);
void tu_sandbox_remove_dir(tu_sandbox *box);
/* Stops the child with SIGTERM; 0 when it exited 0 (under ASan: without leaks). */
int tu_sandbox_stop(tu_sandbox *box);
/* Stops every sandbox still running (group teardown). */
void tu_sandbox_stop_all(void);

/* One request; header lines in `headers` (NULL-terminated, may be NULL). */
void tu_http(const char *method, const char *url, const char *const *headers, const char *body,
             tu_http_result *out);
void tu_httpf(const char *method, const tu_sandbox *box, const char *const *headers,
              const char *body, tu_http_result *out, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void tu_http_free(tu_http_result *r);
/* URL-encodes s; caller frees. */
char *tu_escape(const char *s);
/* A control API call; the JSON of a 2xx answer (caller decrefs), else NULL with *status. */
json_t *tu_sandbox_try_json(const tu_sandbox *box, const char *method, const char *path,
                            const char *body, long *status);
/* The same in a test: anything but 2xx JSON fails the test (testutil.c). */
json_t *tu_sandbox_json(const tu_sandbox *box, const char *method, const char *path,
                        const char *body);

#endif
