#include "sandbox_proc.h"

#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Every started tu_sandbox, so group teardown stops whatever a failed test left running. */
#define MAX_LIVE 8
static tu_sandbox *live[MAX_LIVE];

static void track(tu_sandbox *box, bool on)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        if (on ? live[i] == NULL : live[i] == box) {
            live[i] = on ? box : NULL;
            return;
        }
    }
}

/* ---- child processes ---------------------------------------------------------------------- */

void tu_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

int tu_time_factor(void)
{
    const char *v = getenv("PMSYNC_TEST_TIME_FACTOR");
    int factor = v ? atoi(v) : 1;
    return factor >= 1 && factor <= 100 ? factor : 1;
}

void tu_execve(const char *bin, const char *const *argv, const char *const *envp)
{
    const char *wrapper = getenv("PMSYNC_TEST_WRAPPER");
    char words[2048];
    const char *wrapped[128];
    int n = 0;
    if (wrapper != NULL && strlen(wrapper) < sizeof words) {
        memcpy(words, wrapper, strlen(wrapper) + 1);
        for (char *p = words; *p != '\0' && n < 64;) {
            while (*p == ' ')
                *p++ = '\0';
            if (*p == '\0')
                break;
            wrapped[n++] = p;
            while (*p != '\0' && *p != ' ')
                p++;
        }
    }
    if (n == 0) {
        execve(bin, (char *const *)argv, (char *const *)envp);
        return;
    }
    wrapped[n++] = bin;
    for (int i = 1; argv[i] != NULL && n < 127; i++)
        wrapped[n++] = argv[i];
    wrapped[n] = NULL;
    execve(wrapped[0], (char *const *)wrapped, (char *const *)envp);
}

static int read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int port = 0;
    if (fscanf(f, "%d", &port) != 1)
        port = 0;
    fclose(f);
    return port;
}

/* Starts pms-tu_sandbox with extra arguments (NULL-terminated); 0 on success. */
int tu_sandbox_start(tu_sandbox *box, const char *const *extra)
{
    const char *bin = getenv("PMS_SANDBOX_BIN");
    if (bin == NULL || *bin == '\0')
        return -1;
    memset(box, 0, sizeof(*box));
    snprintf(box->dir, sizeof(box->dir), "/tmp/pms-tu_sandbox-test-XXXXXX");
    if (mkdtemp(box->dir) == NULL)
        return -1;
    char port_file[320], out_file[320], err_file[320];
    snprintf(port_file, sizeof(port_file), "%s/port", box->dir);
    snprintf(out_file, sizeof(out_file), "%s/stdout", box->dir);
    snprintf(err_file, sizeof(err_file), "%s/stderr", box->dir);
    const char *argv[48];
    int argc = 0;
    argv[argc++] = bin;
    argv[argc++] = "--port";
    argv[argc++] = "0";
    argv[argc++] = "--port-file";
    argv[argc++] = port_file;
    for (int i = 0; extra != NULL && extra[i] != NULL && argc < 46; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    pid_t parent = getpid();
    box->pid = fork();
    if (box->pid < 0) {
        box->pid = 0;
        return -1;
    }
    if (box->pid == 0) {
        /* The child dies with the test, even if the test itself is killed. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int out = open(out_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int err = open(err_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        tu_execve(bin, argv, (const char *const *)environ);
        _exit(127);
    }
    track(box, true);
    for (int waited = 0; waited < 20000 * tu_time_factor(); waited += 20) {
        box->port = read_port(port_file);
        if (box->port > 0)
            break;
        int status;
        if (waitpid(box->pid, &status, WNOHANG) == box->pid) {
            box->pid = 0;
            track(box, false);
            return -1;
        }
        tu_sleep_ms(20);
    }
    if (box->port <= 0)
        return -1;
    snprintf(box->base, sizeof(box->base), "http://127.0.0.1:%d", box->port);
    return 0;
}

/* Sends sig and waits up to 15 s; returns the wait status, or -1 after having to SIGKILL. */
int tu_sandbox_signal_and_wait(tu_sandbox *box, int sig)
{
    if (box->pid <= 0)
        return 0;
    kill(box->pid, sig);
    int status = 0;
    for (int waited = 0; waited < 15000 * tu_time_factor(); waited += 20) {
        pid_t r = waitpid(box->pid, &status, WNOHANG);
        if (r == box->pid) {
            box->pid = 0;
            track(box, false);
            return status;
        }
        tu_sleep_ms(20);
    }
    kill(box->pid, SIGKILL);
    waitpid(box->pid, &status, 0);
    box->pid = 0;
    track(box, false);
    return -1;
}

void tu_sandbox_remove_dir(tu_sandbox *box)
{
    const char *names[] = {"port", "stdout", "stderr"};
    char path[320];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", box->dir, names[i]);
        unlink(path);
    }
    if (box->dir[0] != '\0')
        rmdir(box->dir);
    box->dir[0] = '\0';
}

/* Stops the child; 0 when it exited 0 on SIGTERM. */
int tu_sandbox_stop(tu_sandbox *box)
{
    int status = tu_sandbox_signal_and_wait(box, SIGTERM);
    int ok = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && box->dir[0] != '\0') {
        char path[320], line[512];
        snprintf(path, sizeof(path), "%s/stderr", box->dir);
        FILE *f = fopen(path, "r");
        while (f != NULL && fgets(line, sizeof(line), f) != NULL)
            fputs(line, stderr);
        if (f != NULL)
            fclose(f);
    }
    tu_sandbox_remove_dir(box);
    return ok ? 0 : -1;
}

/* ---- HTTP ------------------------------------------------------------------------------- */

static size_t collect_body(char *data, size_t size, size_t n, void *userp)
{
    tu_http_result *r = userp;
    size_t bytes = size * n;
    char *grown = realloc(r->body, r->len + bytes + 1);
    if (grown == NULL)
        return 0;
    r->body = grown;
    memcpy(r->body + r->len, data, bytes);
    r->len += bytes;
    r->body[r->len] = '\0';
    return bytes;
}

static size_t collect_header(char *data, size_t size, size_t n, void *userp)
{
    tu_http_result *r = userp;
    size_t bytes = size * n;
    size_t had = r->headers ? strlen(r->headers) : 0;
    char *grown = realloc(r->headers, had + bytes + 1);
    if (grown != NULL) {
        memcpy(grown + had, data, bytes);
        grown[had + bytes] = '\0';
        r->headers = grown;
    }
    if (bytes > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        const char *v = data + 12;
        while (*v == ' ')
            v++;
        size_t len = strcspn(v, "\r\n");
        if (len >= sizeof(r->retry_after))
            len = sizeof(r->retry_after) - 1;
        memcpy(r->retry_after, v, len);
        r->retry_after[len] = '\0';
    }
    return bytes;
}

bool tu_http_header(const tu_http_result *r, const char *name, char *out, size_t len)
{
    size_t name_len = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t line_len = end ? (size_t)(end - line) : strlen(line);
        if (line_len > name_len && strncasecmp(line, name, name_len) == 0 &&
            line[name_len] == ':') {
            const char *v = line + name_len + 1;
            while (*v == ' ')
                v++;
            size_t vlen = line_len - (size_t)(v - line);
            if (vlen >= len)
                vlen = len - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        line += line_len + (end ? 2 : 0);
    }
    return false;
}

void tu_http_free(tu_http_result *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* One request; header lines in `headers` (NULL-terminated, may be NULL). */
void tu_http(const char *method, const char *url, const char *const *headers, const char *body,
             tu_http_result *out)
{
    memset(out, 0, sizeof(*out));
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        out->curl_code = CURLE_OUT_OF_MEMORY;
        return;
    }
    struct curl_slist *list = NULL;
    for (int i = 0; headers != NULL && headers[i] != NULL; i++)
        list = curl_slist_append(list, headers[i]);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L * tu_time_factor());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    out->curl_code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    if (out->body != NULL)
        out->json = json_loads(out->body, 0, NULL);
}

void tu_httpf(const char *method, const tu_sandbox *box, const char *const *headers,
              const char *body, tu_http_result *out, const char *fmt, ...)
{
    char url[2048];
    int n = snprintf(url, sizeof(url), "%s", box->base);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(url + n, sizeof(url) - (size_t)n, fmt, ap);
    va_end(ap);
    tu_http(method, url, headers, body, out);
}

char *tu_escape(const char *s)
{
    CURL *curl = curl_easy_init();
    char *e = curl_easy_escape(curl, s, 0);
    char *copy = strdup(e);
    curl_free(e);
    curl_easy_cleanup(curl);
    return copy;
}

void tu_sandbox_stop_all(void)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] != NULL)
            tu_sandbox_stop(live[i]);
}

json_t *tu_sandbox_try_json(const tu_sandbox *box, const char *method, const char *path,
                            const char *body, long *status)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    tu_http_result r;
    tu_httpf(method, box, body ? headers : NULL, body, &r, "%s", path);
    *status = r.status;
    json_t *json = r.status >= 200 && r.status < 300 ? json_incref(r.json) : NULL;
    tu_http_free(&r);
    return json;
}
