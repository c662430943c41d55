/* Benchmark: pmsd, the service. Four measurements, each bounded in time and count:
 *
 *  a. GET /api/run-sheet of a day of 40 clinicians x 30 appointments under wrk (2 threads, 32
 *     keep-alive connections), against nginx serving the same body as a static file: requests/s,
 *     p50 and p99 latency, their ratios, CPU per request, and whether every answered request was
 *     audited (pmsd writes one audit record per read of the run sheet).
 *  b. Memory of pmsd idle on an empty database.
 *  c. Memory with 10,000 Medirecords connections configured (100 accounts x 100), none due, and
 *     the scheduler's idle CPU with them (it re-reads the connection list every scan).
 *  d. The scheduler under load: the same connections due uniformly over 15 minutes (about 11.1
 *     syncs a second, as in steady state), synced from pms-sandbox: syncs due, started and
 *     completed in the window, lateness against the due time, sandbox requests per sync, CPU and
 *     memory.
 *
 * Every server listens on 127.0.0.1 only and is stopped (SIGTERM, waited for) on every exit path;
 * the temporary directory is removed. Prints figures and ratios, no thresholds: the exit status
 * is non-zero only when something could not be measured.
 *
 * Usage: bench_pmsd PMSD_BIN PMS_SANDBOX_BIN PMSCTL_BIN [--quick]
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pmsd_proc.h"
#include "pmsync/accounts.h"
#include "pmsync/connections.h"
#include "pmsync/crypto.h"
#include "pmsync/store.h"
#include "sandbox_proc.h"

/* a. the run sheet */
#define SHEET_DATE        "2026-11-23"
#define SHEET_TZ          "Australia/Melbourne"
#define SHEET_OFFSET      "+11:00" /* Melbourne in November (AEDT) */
#define CLINICIANS        40
#define PER_CLINICIAN     30
#define WRK_THREADS       2
#define WRK_CONNECTIONS   32
#define WRK_SECONDS       15
#define WRK_SECONDS_QUICK 3
/* b. idle */
#define IDLE_MS 2000
/* c. and d. connections */
#define ACCOUNTS           100
#define CONNS_PER_ACCOUNT  100
#define CONNECTIONS        (ACCOUNTS * CONNS_PER_ACCOUNT)
#define FREQUENCY_MIN      15
#define FREQUENCY_MS       (FREQUENCY_MIN * 60000LL)
#define JITTER_MS          60000LL /* the scheduler's: 10% of 15 min, capped at a minute */
#define IDLE_CPU_S         20
#define IDLE_CPU_S_QUICK   5
#define LOAD_S             60
#define LOAD_S_QUICK       15
#define SANDBOX_SEED       "3"
#define SANDBOX_PRACTICES  "1"
#define SANDBOX_PRACTITION "4"
#define SANDBOX_PER_DAY    "6"

static bool quick;
static char work_dir[256];
static volatile sig_atomic_t interrupted;

/* What is running: stopped by stop_all() on every way out. */
static tu_pmsd live_pmsd;   /* a copy: pid 0 when none */
static tu_sandbox live_box; /* a copy: pid 0 and no dir when none */
static pid_t live_nginx, live_wrk;

/* ---- small helpers --------------------------------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Sleeps ms in short steps; false when the benchmark was interrupted. */
static bool nap(int ms)
{
    for (int slept = 0; slept < ms && !interrupted; slept += 50)
        tu_sleep_ms(ms - slept < 50 ? ms - slept : 50);
    return !interrupted;
}

static bool failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_pmsd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return false;
}

static bool make_dir(char *out, size_t len, const char *name, mode_t mode)
{
    snprintf(out, len, "%s/%s", work_dir, name);
    if (mkdir(out, mode) != 0 || chmod(out, mode) != 0)
        return failf("cannot create %s: %s", out, strerror(errno));
    return true;
}

static bool write_file(const char *path, const char *text, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return failf("cannot write %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n <= 0) {
            close(fd);
            return failf("cannot write %s: %s", path, strerror(errno));
        }
        done += (size_t)n;
    }
    return close(fd) == 0 && fchmodat(AT_FDCWD, path, mode, 0) == 0;
}

static char *slurp(const char *path)
{
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *grown = realloc(buf, cap);
            if (grown == NULL) {
                free(buf);
                fclose(in);
                return NULL;
            }
            buf = grown;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(in);
    if (buf == NULL)
        buf = calloc(1, 1);
    else
        buf[len] = '\0';
    return buf;
}

/* ---- /proc ---------------------------------------------------------------------------------- */

typedef struct mem_use {
    long rss_kib, hwm_kib, threads;
} mem_use;

static bool proc_mem(pid_t pid, mem_use *m)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    memset(m, 0, sizeof *m);
    if (f == NULL)
        return false;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "VmRSS: %ld", &m->rss_kib);
        sscanf(line, "VmHWM: %ld", &m->hwm_kib);
        sscanf(line, "Threads: %ld", &m->threads);
    }
    fclose(f);
    return m->rss_kib > 0;
}

/* utime + stime of a process (its threads included) in seconds; *ppid its parent. */
static double proc_cpu_s(pid_t pid, pid_t *ppid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    int parent = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &parent, &ut, &st) != 3)
        return -1;
    if (ppid)
        *ppid = parent;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU of a process and its children (nginx's master and workers). */
static double tree_cpu_s(pid_t root)
{
    double total = proc_cpu_s(root, NULL);
    DIR *d = opendir("/proc");
    const struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        pid_t parent = 0;
        if (*end != '\0' || pid <= 0 || pid == root)
            continue;
        double cpu = proc_cpu_s((pid_t)pid, &parent);
        if (cpu > 0 && parent == root)
            total += cpu;
    }
    if (d)
        closedir(d);
    return total;
}

/* ---- processes ------------------------------------------------------------------------------ */

static pid_t spawn(const char *const *argv, const char *out_path, bool own_group)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    if (own_group)
        setpgid(0, 0);
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(127);
    execvp(argv[0], (char *const *)argv);
    dprintf(2, "cannot run %s: %s (scripts/install-deps.sh installs it)\n", argv[0],
            strerror(errno));
    _exit(127);
}

/* SIGTERM, then waits up to timeout_ms; SIGKILL (to the group when asked) after that. */
static int stop_child(pid_t *pid, int timeout_ms, bool group)
{
    if (*pid <= 0)
        return 0;
    kill(*pid, SIGTERM);
    int status = 0;
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            *pid = 0;
            return status;
        }
        tu_sleep_ms(20);
    }
    kill(group ? -*pid : *pid, SIGKILL);
    waitpid(*pid, &status, 0);
    *pid = 0;
    return -1;
}

static bool start_pmsd(tu_pmsd *d, const char *dir, const char *const *extra)
{
    if (tu_pmsd_start(d, dir, extra) != 0) {
        char path[600];
        snprintf(path, sizeof path, "%s/pmsd.log", dir);
        char *log = slurp(path);
        failf("pmsd did not start; its log:\n%s", log ? log : "(none)");
        free(log);
        return false;
    }
    live_pmsd = *d;
    return true;
}

static void stop_pmsd(tu_pmsd *d)
{
    pid_t pid = d->pid;
    if (pid > 0)
        tu_pmsd_stop(d);
    if (live_pmsd.pid == pid)
        memset(&live_pmsd, 0, sizeof live_pmsd);
}

static bool start_sandbox(tu_sandbox *box, const char *const *args)
{
    if (tu_sandbox_start(box, args) != 0)
        return failf("pms-sandbox did not start");
    live_box = *box;
    return true;
}

static void stop_sandbox(tu_sandbox *box)
{
    if (box->pid > 0 || box->dir[0])
        tu_sandbox_stop(box);
    memset(&live_box, 0, sizeof live_box);
}

static void stop_all(void)
{
    stop_child(&live_wrk, 5000, false);
    stop_child(&live_nginx, 10000, true);
    if (live_pmsd.pid > 0)
        stop_pmsd(&live_pmsd);
    if (live_box.pid > 0 || live_box.dir[0])
        stop_sandbox(&live_box);
    if (work_dir[0]) {
        char cmd[320];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_pmsd: could not remove %s\n", work_dir);
        work_dir[0] = '\0';
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* ---- HTTP ----------------------------------------------------------------------------------- */

/* One keep-alive connection (libcurl reuses it across calls). */
typedef struct client {
    CURL *curl;
    char *body;
    size_t len;
} client;

static size_t client_collect(char *data, size_t size, size_t n, void *userp)
{
    client *c = userp;
    size_t bytes = size * n;
    char *grown = realloc(c->body, c->len + bytes + 1);
    if (grown == NULL)
        return 0;
    c->body = grown;
    memcpy(c->body + c->len, data, bytes);
    c->len += bytes;
    c->body[c->len] = '\0';
    return bytes;
}

/* The status of method url (body: JSON or NULL); c->body holds the answer. */
static long client_call(client *c, const char *method, const char *url, const char *key,
                        const char *body)
{
    char auth[160];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    if (body)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    c->len = 0;
    if (c->body)
        c->body[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_collect);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, body ? (long)strlen(body) : 0L);
    if (body == NULL)
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    long status = 0;
    if (curl_easy_perform(c->curl) == CURLE_OK)
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    return status;
}

/* A gauge or counter of pmsd's /metrics (first sample with that exact name), -1 when absent. */
static double metric(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, name, n) == 0 && line[n] == ' ')
            return strtod(line + n + 1, NULL);
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}

static double pmsd_metric(const tu_pmsd *d, const char *name)
{
    tu_http_result r;
    tu_api(d, "GET", NULL, NULL, &r, "/metrics");
    double v = r.status == 200 && r.body ? metric(r.body, name) : -1;
    tu_http_free(&r);
    return v;
}

static long sandbox_requests(const tu_sandbox *box)
{
    long status = 0;
    json_t *stats = tu_sandbox_try_json(box, "GET", "/_sandbox/stats", NULL, &status);
    long total = stats ? (long)json_integer_value(json_object_get(stats, "total")) : -1;
    json_decref(stats);
    return total;
}

/* ---- SQLite (read-only counts on pmsd's database) ------------------------------------------- */

static long long sql_count(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    long long n = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

/* ---- wrk ------------------------------------------------------------------------------------ */

typedef struct wrk_result {
    long requests;
    double seconds;
    double rps;
    double p50_ms, p99_ms;
    long non_2xx;
    long socket_errors;
} wrk_result;

static double to_ms(double v, const char *unit)
{
    if (strcmp(unit, "us") == 0)
        return v / 1000.0;
    if (strcmp(unit, "ms") == 0)
        return v;
    if (strcmp(unit, "s") == 0)
        return v * 1000.0;
    if (strcmp(unit, "m") == 0)
        return v * 60000.0;
    if (strcmp(unit, "h") == 0)
        return v * 3600000.0;
    return -1;
}

static bool parse_wrk(const char *text, wrk_result *r)
{
    memset(r, 0, sizeof *r);
    r->p50_ms = r->p99_ms = r->rps = -1;
    for (const char *line = text; line && *line;) {
        int pct;
        double v;
        char unit[8];
        long a, b, c, d;
        if (sscanf(line, " %d%% %lf%7[a-z]", &pct, &v, unit) == 3) {
            if (pct == 50)
                r->p50_ms = to_ms(v, unit);
            else if (pct == 99)
                r->p99_ms = to_ms(v, unit);
        } else if (sscanf(line, " %ld requests in %lf%7[a-z]", &a, &v, unit) == 3) {
            r->requests = a;
            r->seconds = to_ms(v, unit) / 1000.0;
        } else if (sscanf(line, "Requests/sec: %lf", &v) == 1) {
            r->rps = v;
        } else if (sscanf(line, " Non-2xx or 3xx responses: %ld", &a) == 1) {
            r->non_2xx = a;
        } else if (sscanf(line, " Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &a,
                          &b, &c, &d) == 4) {
            r->socket_errors = a + b + c + d;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return r->requests > 0 && r->rps > 0 && r->p50_ms >= 0 && r->p99_ms >= 0;
}

static bool run_wrk(const char *url, const char *key, int seconds, const char *name, wrk_result *r)
{
    char out_path[400], duration[16], threads[16], conns[16], auth[160];
    snprintf(out_path, sizeof out_path, "%s/wrk-%s.txt", work_dir, name);
    snprintf(duration, sizeof duration, "%ds", seconds);
    snprintf(threads, sizeof threads, "-t%d", WRK_THREADS);
    snprintf(conns, sizeof conns, "-c%d", WRK_CONNECTIONS);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    const char *argv[] = {"wrk",       threads, conns, "-d", duration, "--latency",
                          "--timeout", "30s",   "-H",  auth, url,      NULL};
    live_wrk = spawn(argv, out_path, false);
    if (live_wrk < 0) {
        live_wrk = 0;
        return failf("cannot run wrk");
    }
    int status = 0;
    double deadline = mono_s() + seconds + 45;
    for (;;) {
        pid_t done = waitpid(live_wrk, &status, WNOHANG);
        if (done == live_wrk) {
            live_wrk = 0;
            break;
        }
        if (interrupted || mono_s() > deadline) {
            stop_child(&live_wrk, 5000, false);
            return failf("wrk against %s did not finish", name);
        }
        tu_sleep_ms(50);
    }
    char *out = slurp(out_path);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && out && parse_wrk(out, r);
    if (!ok)
        failf("wrk against %s failed (status %d): %s", name, status, out ? out : "(no output)");
    free(out);
    return ok;
}

/* ---- nginx ---------------------------------------------------------------------------------- */

static bool start_nginx(const char *www_dir, const char *file_name, int *port_out)
{
    char dir[300], conf_path[400], log_path[400];
    if (!make_dir(dir, sizeof dir, "nginx", 0700))
        return false;
    int port = free_port();
    if (port <= 0)
        return failf("no free port for nginx");
    snprintf(conf_path, sizeof conf_path, "%s/nginx.conf", dir);
    snprintf(log_path, sizeof log_path, "%s/error.log", dir);
    char *conf = NULL;
    int len = asprintf(&conf,
                       "daemon off;\n"
                       "master_process on;\n"
                       "worker_processes 2;\n"
                       "pid %s/nginx.pid;\n"
                       "error_log %s warn;\n"
                       "events { worker_connections 1024; }\n"
                       "http {\n"
                       "    access_log off;\n"
                       "    client_body_temp_path %s/client_body;\n"
                       "    proxy_temp_path %s/proxy;\n"
                       "    fastcgi_temp_path %s/fastcgi;\n"
                       "    uwsgi_temp_path %s/uwsgi;\n"
                       "    scgi_temp_path %s/scgi;\n"
                       "    default_type application/json;\n"
                       "    sendfile on;\n"
                       "    keepalive_requests 1000000;\n"
                       "    server {\n"
                       "        listen 127.0.0.1:%d;\n"
                       "        root %s;\n"
                       "        location = /api/run-sheet { try_files /%s =404; }\n"
                       "    }\n"
                       "}\n",
                       dir, log_path, dir, dir, dir, dir, dir, port, www_dir, file_name);
    if (len < 0)
        return failf("out of memory");
    bool written = write_file(conf_path, conf, (size_t)len, 0600);
    free(conf);
    if (!written)
        return false;
    char out_path[400];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    const char *argv[] = {"nginx", "-p", dir, "-c", conf_path, "-e", log_path, NULL};
    live_nginx = spawn(argv, out_path, true);
    if (live_nginx < 0) {
        live_nginx = 0;
        return failf("cannot run nginx");
    }
    for (int waited = 0; waited < 10000 && !interrupted; waited += 20) {
        int status;
        if (waitpid(live_nginx, &status, WNOHANG) == live_nginx) {
            live_nginx = 0;
            char *out = slurp(out_path), *err = slurp(log_path);
            failf("nginx exited at start: %s %s", out ? out : "", err ? err : "");
            free(out);
            free(err);
            return false;
        }
        if (port_open(port)) {
            *port_out = port;
            return true;
        }
        tu_sleep_ms(20);
    }
    stop_child(&live_nginx, 10000, true);
    return failf("nginx did not start listening");
}

/* ---- a. GET /api/run-sheet against nginx ---------------------------------------------------- */

static bool pmsctl_out(const char *dir, char *out, size_t len, const char *const *args)
{
    /* pmsctl's notes on stderr (key file created, key ids) go to a file, shown on failure. */
    char err_path[400];
    snprintf(err_path, sizeof err_path, "%s/pmsctl.err", work_dir);
    fflush(stderr);
    int saved = dup(2), err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (saved >= 0 && err >= 0)
        dup2(err, 2);
    int rc = tu_pmsctl(dir, out, len, args);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    if (err >= 0)
        close(err);
    if (rc != 0) {
        char *text = slurp(err_path);
        failf("pmsctl %s %s failed (%d): %s", args[0], args[1], rc, text ? text : "");
        free(text);
        return false;
    }
    return true;
}

/* Clinicians and manual appointments through the API (one keep-alive connection): the
 * clinician ids into ids. */
static bool fill_run_sheet(const tu_pmsd *d, const char *admin_key, const char *staff_key,
                           double *seconds)
{
    client c = {.curl = curl_easy_init()};
    if (c.curl == NULL)
        return failf("curl_easy_init failed");
    char url[256], body[1024];
    bool ok = true;
    static const char *const phones[] = {"0491 570 006", "0491 570 156", "0491 570 157",
                                         "0491 570 158", "0491 570 159", "0491 570 110"};
    double started = mono_s();
    for (int k = 0; k < CLINICIANS && ok && !interrupted; k++) {
        snprintf(url, sizeof url, "%s/api/run-sheet/clinicians", d->base);
        snprintf(body, sizeof body, "{\"name\":\"Bench Clinician %02d\"}", k + 1);
        long status = client_call(&c, "POST", url, admin_key, body);
        json_t *made = status == 201 ? json_loads(c.body, 0, NULL) : NULL;
        const char *id = json_string_value(json_object_get(made, "id"));
        if (id == NULL) {
            ok = failf("POST /api/run-sheet/clinicians answered %ld", status);
            json_decref(made);
            break;
        }
        char clinician[64];
        snprintf(clinician, sizeof clinician, "%s", id);
        json_decref(made);
        snprintf(url, sizeof url, "%s/api/run-sheet/appointments", d->base);
        for (int a = 0; a < PER_CLINICIAN && ok; a++) {
            int minutes = 8 * 60 + a * 15;
            /* Made-up names and numbers from the range reserved for fiction; never printed. */
            snprintf(body, sizeof body,
                     "{\"source\":\"manual\",\"clinicianId\":\"%s\",\"startTime\":\"" SHEET_DATE
                     "T%02d:%02d:00" SHEET_OFFSET "\",\"durationMinutes\":15,"
                     "\"patient\":{\"fullName\":\"Testpatient Number%02d%02d\",\"phone\":\"%s\"},"
                     "\"appointmentTypeName\":\"Telehealth consultation\",\"isTelehealth\":true,"
                     "\"notes\":\"Benchmark entry: follow-up of results, script renewal.\"}",
                     clinician, minutes / 60, minutes % 60, k, a, phones[(k + a) % 6]);
            long status2 = client_call(&c, "POST", url, staff_key, body);
            if (status2 != 201)
                ok = failf("POST /api/run-sheet/appointments answered %ld", status2);
        }
    }
    *seconds = mono_s() - started;
    free(c.body);
    curl_easy_cleanup(c.curl);
    return ok && !interrupted;
}

static void print_wrk_row(const char *server, const wrk_result *r, double cpu_s)
{
    printf("| %-6s | %8ld | %6.2f | %9.1f | %8.2f | %8.2f | %6ld | %5ld | %7.2f |\n", server,
           r->requests, r->seconds, r->rps, r->p50_ms, r->p99_ms, r->non_2xx, r->socket_errors,
           cpu_s >= 0 && r->requests > 0 ? cpu_s * 1000.0 / (double)r->requests : -1.0);
}

static bool bench_run_sheet(void)
{
    int seconds = quick ? WRK_SECONDS_QUICK : WRK_SECONDS;
    printf("\n## a. GET /api/run-sheet vs nginx (%d cores)\n\n", cores());
    printf(
        "One account (%s), %d clinicians x %d manual appointments on %s (made through the API:\n"
        "POST /api/run-sheet/clinicians and /appointments on one keep-alive connection);\n"
        "pmsd --set scheduler=false, default http_threads; wrk -t%d -c%d -d%ds --latency with a\n"
        "staff key, against pmsd and against nginx (2 workers, access_log off) serving the same\n"
        "body as a static file.\n\n",
        SHEET_TZ, CLINICIANS, PER_CLINICIAN, SHEET_DATE, WRK_THREADS, WRK_CONNECTIONS, seconds);
    fflush(stdout);
    char dir[300], www[300], out[512], account[64], admin_key[128], staff_key[128];
    if (!make_dir(dir, sizeof dir, "run-sheet", 0700))
        return false;
    if (!pmsctl_out(
            dir, out, sizeof out,
            (const char *const[]){"account", "add", "Bench Clinic", "--timezone", SHEET_TZ, NULL}))
        return false;
    snprintf(account, sizeof account, "%s", out);
    if (!pmsctl_out(dir, out, sizeof out,
                    (const char *const[]){"apikey", "create", "--account", account, "--role",
                                          "admin", "--name", "bench-admin", NULL}))
        return false;
    snprintf(admin_key, sizeof admin_key, "%s", out);
    if (!pmsctl_out(dir, out, sizeof out,
                    (const char *const[]){"apikey", "create", "--account", account, "--role",
                                          "staff", "--name", "bench", NULL}))
        return false;
    snprintf(staff_key, sizeof staff_key, "%s", out);

    tu_pmsd d;
    if (!start_pmsd(&d, dir, (const char *const[]){"--set", "scheduler=false", NULL}))
        return false;
    bool ok = false;
    double fill_s = 0;
    if (!fill_run_sheet(&d, admin_key, staff_key, &fill_s))
        goto out;
    printf("Made %d appointments in %.2f s: %.2f ms per POST (serial, each with its audit record "
           "in the same transaction).\n",
           CLINICIANS * PER_CLINICIAN, fill_s, fill_s * 1000.0 / (CLINICIANS * PER_CLINICIAN));

    tu_http_result r;
    tu_api(&d, "GET", staff_key, NULL, &r, "/api/run-sheet?date=%s", SHEET_DATE);
    long count = (long)json_integer_value(json_object_get(r.json, "appointmentCount"));
    if (r.status != 200 || count != CLINICIANS * PER_CLINICIAN) {
        failf("GET /api/run-sheet answered %ld with %ld appointments", r.status, count);
        tu_http_free(&r);
        goto out;
    }
    size_t body_len = r.len;
    if (!make_dir(www, sizeof www, "www", 0755)) {
        tu_http_free(&r);
        goto out;
    }
    char body_path[400];
    snprintf(body_path, sizeof body_path, "%s/run-sheet.json", www);
    bool saved = write_file(body_path, r.body, r.len, 0644);
    tu_http_free(&r);
    if (!saved)
        goto out;

    char db[600], url[256];
    snprintf(db, sizeof db, "%s/pmsync.db", dir);
    static const char count_reads[] =
        "SELECT COUNT(*) FROM audit_log WHERE action='run_sheet.read'";
    long long audit_before = sql_count(db, count_reads);
    snprintf(url, sizeof url, "%s/api/run-sheet?date=%s", d.base, SHEET_DATE);
    wrk_result pw, nw;
    double cpu0 = proc_cpu_s(d.pid, NULL);
    if (!run_wrk(url, staff_key, seconds, "pmsd", &pw))
        goto out;
    double pmsd_cpu = proc_cpu_s(d.pid, NULL) - cpu0;
    mem_use pm;
    proc_mem(d.pid, &pm);
    stop_pmsd(&d); /* nothing of it runs while nginx is measured */
    long long audit_after = sql_count(db, count_reads);

    int port = 0;
    if (!start_nginx(www, "run-sheet.json", &port))
        goto out;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/run-sheet?date=%s", port, SHEET_DATE);
    double ncpu0 = tree_cpu_s(live_nginx);
    bool measured = run_wrk(url, staff_key, seconds, "nginx", &nw);
    double nginx_cpu = tree_cpu_s(live_nginx) - ncpu0;
    stop_child(&live_nginx, 10000, true);
    if (!measured)
        goto out;

    printf("Body: %zu bytes (%.1f KiB), %d appointments.\n\n", body_len, (double)body_len / 1024.0,
           CLINICIANS * PER_CLINICIAN);
    printf("| server | requests | s | requests/s | p50 ms | p99 ms | non-2xx | socket errors | "
           "server CPU ms/request |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    print_wrk_row("pmsd", &pw, pmsd_cpu);
    print_wrk_row("nginx", &nw, nginx_cpu);
    printf("\npmsd / nginx: requests/s %.4f (nginx %.0fx faster), p50 %.1fx, p99 %.1fx\n",
           pw.rps / nw.rps, nw.rps / pw.rps, pw.p50_ms / nw.p50_ms, pw.p99_ms / nw.p99_ms);
    printf("pmsd: %.1f%% of one core over the run (%.2f of %d cores), RSS %.1f MiB (peak %.1f "
           "MiB) after it\n",
           pmsd_cpu * 100.0 / pw.seconds, pmsd_cpu / pw.seconds, cores(), pm.rss_kib / 1024.0,
           pm.hwm_kib / 1024.0);
    long long written = audit_after - audit_before;
    printf("Audit: %ld requests answered by pmsd (wrk), %lld run_sheet.read records written "
           "(%+lld: requests still in flight when wrk stopped are audited but not counted by "
           "wrk; at most %d)\n",
           pw.requests, written, written - pw.requests, WRK_CONNECTIONS);
    ok = true;
out:
    fflush(stdout);
    stop_pmsd(&d);
    return ok;
}

/* ---- b. idle memory ------------------------------------------------------------------------- */

static bool bench_idle(void)
{
    printf("\n## b. pmsd idle on an empty database (%d cores)\n\n", cores());
    printf("Default configuration (scheduler on, http_threads 4), no accounts or connections;\n"
           "/proc/PID/status after %d ms idle.\n\n",
           IDLE_MS);
    char dir[300];
    if (!make_dir(dir, sizeof dir, "idle", 0700))
        return false;
    tu_pmsd d;
    if (!start_pmsd(&d, dir, NULL))
        return false;
    double cpu0 = proc_cpu_s(d.pid, NULL);
    bool ok = nap(IDLE_MS);
    mem_use m;
    double cpu = proc_cpu_s(d.pid, NULL) - cpu0;
    ok = ok && proc_mem(d.pid, &m);
    if (ok) {
        printf("| VmRSS MiB | VmHWM MiB | threads | CPU over the %d ms |\n|---|---|---|---|\n",
               IDLE_MS);
        printf("| %.1f | %.1f | %ld | %.0f ms |\n", m.rss_kib / 1024.0, m.hwm_kib / 1024.0,
               m.threads, cpu * 1000.0);
    }
    fflush(stdout);
    stop_pmsd(&d);
    return ok;
}

/* ---- c. and d. 10,000 connections ----------------------------------------------------------- */

typedef struct fleet {
    char dir[300];
    char db[400];
    char key[400];
    char (*ids)[PMS_UUID_LEN];
    json_t *index; /* id -> position */
    int64_t *due;  /* last_sync_at + 15 min */
} fleet;

static void fleet_free(fleet *f)
{
    free(f->ids);
    free(f->due);
    json_decref(f->index);
    memset(f, 0, sizeof *f);
}

/* 100 accounts x 100 Medirecords connections to the sandbox's first practice, in one
 * transaction, with the library; every last_sync_at "now". */
static bool fleet_create(fleet *f, const tu_sandbox *box, double *seconds)
{
    long status = 0;
    json_t *info = tu_sandbox_try_json(box, "GET", "/_sandbox/info", NULL, &status);
    const json_t *mr = json_object_get(info, "medirecords");
    const json_t *practice = json_array_get(json_object_get(mr, "practices"), 0);
    const char *base = json_string_value(json_object_get(mr, "baseUrl"));
    const char *practice_id = json_string_value(json_object_get(practice, "practiceId"));
    const char *token = json_string_value(json_object_get(practice, "token"));
    const char *tz = json_string_value(json_object_get(practice, "timezone"));
    if (!base || !practice_id || !token || !tz) {
        json_decref(info);
        return failf("GET /_sandbox/info (%ld) has no Medirecords practice", status);
    }
    if (!make_dir(f->dir, sizeof f->dir, "connections", 0700)) {
        json_decref(info);
        return false;
    }
    snprintf(f->db, sizeof f->db, "%s/pmsync.db", f->dir);
    snprintf(f->key, sizeof f->key, "%s/pmsync.key", f->dir);
    f->ids = calloc(CONNECTIONS, sizeof *f->ids);
    f->due = calloc(CONNECTIONS, sizeof *f->due);
    f->index = json_object();
    pms_store *st = NULL;
    pms_keyring *ring = NULL;
    pms_error err = {0};
    bool ok = false, in_tx = false;
    double started = mono_s();
    if (!f->ids || !f->due || !f->index) {
        failf("out of memory");
        goto out;
    }
    if (pms_store_open(f->db, true, &st, &err) != PMS_OK ||
        pms_keyring_load(NULL, f->key, true, &ring, &err) != PMS_OK ||
        st->ops->begin(st, &err) != PMS_OK) {
        failf("cannot open the database: %s", err.message);
        goto out;
    }
    in_tx = true;
    int64_t now = now_ms();
    pms_setting_value settings[] = {{"practice_id", practice_id}, {"token", token}};
    for (int a = 0; a < ACCOUNTS; a++) {
        char account[PMS_UUID_LEN], name[64];
        snprintf(name, sizeof name, "Bench account %03d", a + 1);
        if (pms_account_create(st, name, tz, account, &err) != PMS_OK) {
            failf("pms_account_create: %s", err.message);
            goto out;
        }
        for (int c = 0; c < CONNS_PER_ACCOUNT; c++) {
            int i = a * CONNS_PER_ACCOUNT + c;
            snprintf(name, sizeof name, "Bench clinic %03d-%03d", a + 1, c + 1);
            pms_connection_fields fields = {
                .display_name = name,
                .base_url = base,
                .timezone = tz,
                .sync_enabled = 1,
                .sync_frequency_minutes = FREQUENCY_MIN,
                .sync_telehealth_only = -1,
                .skip_unmapped = -1,
            };
            if (pms_connection_create(st, ring, account, "medirecords", &fields, settings, 2,
                                      f->ids[i], &err) != PMS_OK ||
                st->ops->connection_set_sync_result(st, f->ids[i], now, "success", NULL, &err) !=
                    PMS_OK ||
                st->ops->schedule_set(st, f->ids[i], now + FREQUENCY_MS, &err) != PMS_OK) {
                failf("creating connection %d: %s", i, err.message);
                goto out;
            }
            json_object_set_new(f->index, f->ids[i], json_integer(i));
        }
    }
    if (st->ops->commit(st, &err) != PMS_OK) {
        failf("commit: %s", err.message);
        goto out;
    }
    in_tx = false;
    ok = true;
out:
    *seconds = mono_s() - started;
    if (in_tx)
        st->ops->rollback(st);
    pms_store_close(st);
    pms_keyring_free(ring);
    json_decref(info);
    return ok;
}

/* Waits until the scheduler knows every connection (its first scan); seconds since `since`
 * (mono_s), -1 on failure. */
static double wait_first_scan(const tu_pmsd *d, double since)
{
    while (!interrupted && mono_s() - since < 120) {
        if (pmsd_metric(d, "pmsd_connections") >= CONNECTIONS)
            return mono_s() - since;
        tu_sleep_ms(20);
    }
    failf("pmsd's scheduler did not report %d connections", CONNECTIONS);
    return -1;
}

static bool bench_fleet_idle(const fleet *f, const tu_sandbox *box)
{
    int seconds = quick ? IDLE_CPU_S_QUICK : IDLE_CPU_S;
    printf("\n## c. pmsd with %d connections configured, none due (%d cores)\n\n", CONNECTIONS,
           cores());
    printf("%d accounts x %d Medirecords connections (sandbox practice 0), syncEnabled, every\n"
           "%d minutes, last_sync_at = now; pmsd with the default configuration (scheduler on,\n"
           "scheduler_scan_seconds 1). Memory once the scheduler reports every connection; CPU\n"
           "(utime+stime) over the next %d s.\n\n",
           ACCOUNTS, CONNS_PER_ACCOUNT, FREQUENCY_MIN, seconds);
    fflush(stdout);
    tu_pmsd d;
    double launched = mono_s();
    if (!start_pmsd(&d, f->dir, NULL))
        return false;
    bool ok = false;
    double scan_s = wait_first_scan(&d, launched);
    if (scan_s < 0)
        goto out;
    mem_use m;
    proc_mem(d.pid, &m);
    long requests0 = sandbox_requests(box);
    double cpu0 = proc_cpu_s(d.pid, NULL), t0 = mono_s();
    if (!nap(seconds * 1000))
        goto out;
    double cpu = proc_cpu_s(d.pid, NULL) - cpu0, wall = mono_s() - t0;
    mem_use m2;
    proc_mem(d.pid, &m2);
    long requests = sandbox_requests(box) - requests0;
    printf("| all known s after launch | VmRSS MiB | VmHWM MiB | threads | idle CPU %% of one core "
           "| CPU ms per 5 s | VmRSS MiB at the end | sandbox requests |\n"
           "|---|---|---|---|---|---|---|---|\n");
    printf("| %.2f | %.1f | %.1f | %ld | %.2f | %.0f | %.1f | %ld |\n", scan_s, m.rss_kib / 1024.0,
           m.hwm_kib / 1024.0, m.threads, cpu * 100.0 / wall, cpu * 1000.0 / (wall / 5.0),
           m2.rss_kib / 1024.0, requests);
    ok = true;
out:
    fflush(stdout);
    stop_pmsd(&d);
    return ok;
}

/* last_sync_at of every connection spread uniformly over the past 15 minutes (a permutation,
 * so the accounts interleave): due = last + 15 min, about 11.1 a second from now on. */
static bool fleet_spread(fleet *f)
{
    pms_store *st = NULL;
    pms_error err = {0};
    if (pms_store_open(f->db, false, &st, &err) != PMS_OK || st->ops->begin(st, &err) != PMS_OK) {
        pms_store_close(st);
        return failf("cannot open the database: %s", err.message);
    }
    int64_t now = now_ms();
    for (int i = 0; i < CONNECTIONS; i++) {
        int slot = (int)(((long)i * 7919) % CONNECTIONS);
        int64_t last = now - (int64_t)((double)FREQUENCY_MS * (slot + 0.5) / CONNECTIONS);
        f->due[i] = last + FREQUENCY_MS;
        if (st->ops->connection_set_sync_result(st, f->ids[i], last, "success", NULL, &err) !=
                PMS_OK ||
            st->ops->schedule_set(st, f->ids[i], f->due[i], &err) != PMS_OK) {
            st->ops->rollback(st);
            pms_store_close(st);
            return failf("scheduling connection %d: %s", i, err.message);
        }
    }
    bool ok = st->ops->commit(st, &err) == PMS_OK;
    if (!ok)
        st->ops->rollback(st);
    pms_store_close(st);
    return ok || failf("commit: %s", err.message);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

typedef struct load_stats {
    long started, completed, success, partial, failed, running;
    long requests_made, fetched, created;
    double duration_sum_s;
    long long *lateness_ms;
    size_t lateness_n;
} load_stats;

/* The sync log of the window [from, to] (epoch ms). */
static bool read_sync_log(const fleet *f, int64_t from, int64_t to, load_stats *s)
{
    memset(s, 0, sizeof *s);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    static const char sql[] =
        "SELECT pms_connection_id, started_at, completed_at, status, requests_made, "
        "appointments_fetched, appointments_created FROM pms_sync_log "
        "WHERE started_at BETWEEN ?1 AND ?2";
    s->lateness_ms = calloc(CONNECTIONS, sizeof *s->lateness_ms);
    if (s->lateness_ms == NULL ||
        sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        failf("cannot read the sync log: %s", db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        return false;
    }
    sqlite3_bind_int64(stmt, 1, from);
    sqlite3_bind_int64(stmt, 2, to);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(stmt, 0);
        int64_t started = sqlite3_column_int64(stmt, 1);
        bool finished = sqlite3_column_type(stmt, 2) != SQLITE_NULL;
        int64_t completed = sqlite3_column_int64(stmt, 2);
        const char *status = (const char *)sqlite3_column_text(stmt, 3);
        s->started++;
        const json_t *at = id ? json_object_get(f->index, id) : NULL;
        if (at && s->lateness_n < CONNECTIONS)
            s->lateness_ms[s->lateness_n++] = started - f->due[json_integer_value(at)];
        if (!finished || completed > to || status == NULL || strcmp(status, "running") == 0) {
            s->running++;
            continue;
        }
        s->completed++;
        s->success += strcmp(status, "success") == 0;
        s->partial += strcmp(status, "partial") == 0;
        s->failed += strcmp(status, "failed") == 0;
        s->requests_made += sqlite3_column_int64(stmt, 4);
        s->fetched += sqlite3_column_int64(stmt, 5);
        s->created += sqlite3_column_int64(stmt, 6);
        s->duration_sum_s += (double)(completed - started) / 1000.0;
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (rc != SQLITE_DONE)
        return failf("reading the sync log failed (%d)", rc);
    qsort(s->lateness_ms, s->lateness_n, sizeof *s->lateness_ms, cmp_ll);
    return true;
}

static double pct_s(const load_stats *s, double p)
{
    if (s->lateness_n == 0)
        return -1;
    size_t i = (size_t)(p * (double)(s->lateness_n - 1) + 0.5);
    return (double)s->lateness_ms[i] / 1000.0;
}

static bool bench_fleet_load(fleet *f, const tu_sandbox *box)
{
    int seconds = quick ? LOAD_S_QUICK : LOAD_S;
    double needed = (double)CONNECTIONS / (FREQUENCY_MIN * 60.0);
    printf("\n## d. The scheduler under load: %d connections due every %d minutes (%d cores)\n\n",
           CONNECTIONS, FREQUENCY_MIN, cores());
    printf("The same connections, last_sync_at spread uniformly over the past %d minutes: due\n"
           "(last_sync_at + %d min) at %.1f a second from the start. pmsd with the default\n"
           "configuration (max_parallel_syncs 4) for %d s; pms-sandbox --practices "
           "%s --practitioners %s\n"
           "--appointments-per-day %s --seed %s (every connection syncs its one Medirecords "
           "practice's today,\n"
           "telehealth only, the default). Each sync here is the connection's first: it reads "
           "the practice's\n"
           "types and creates its clinicians. Each due time is stored (next_sync_at) and the\n"
           "scheduler claims connections as they fall due, %.1f a second; the jitter (up to "
           "%lld s) applies\n"
           "to the next due time it sets after each sync. 'expected' = due in the window.\n\n",
           FREQUENCY_MIN, FREQUENCY_MIN, needed, seconds, SANDBOX_PRACTICES, SANDBOX_PRACTITION,
           SANDBOX_PER_DAY, SANDBOX_SEED, needed, JITTER_MS / 1000);
    fflush(stdout);
    if (!fleet_spread(f))
        return false;
    long requests0 = sandbox_requests(box);
    int64_t from = now_ms();
    tu_pmsd d;
    if (!start_pmsd(&d, f->dir, NULL))
        return false;
    bool ok = false;
    load_stats s = {0};
    double cpu0 = proc_cpu_s(d.pid, NULL), t0 = mono_s();
    double max_queued = 0, max_running = 0;
    while (mono_s() - t0 < seconds) {
        if (!nap(1000))
            goto out;
        if (kill(d.pid, 0) != 0) {
            failf("pmsd died during the run");
            goto out;
        }
        double q = pmsd_metric(&d, "pmsd_syncs_queued"), r = pmsd_metric(&d, "pmsd_syncs_running");
        max_queued = q > max_queued ? q : max_queued;
        max_running = r > max_running ? r : max_running;
    }
    int64_t to = now_ms();
    double wall = mono_s() - t0, cpu = proc_cpu_s(d.pid, NULL) - cpu0;
    long requests = sandbox_requests(box) - requests0;
    mem_use m;
    proc_mem(d.pid, &m);
    stop_pmsd(&d);
    if (!read_sync_log(f, from, to, &s))
        goto out;

    long due = 0;
    double expected = 0;
    for (int i = 0; i < CONNECTIONS; i++) {
        due += f->due[i] <= to;
        expected += f->due[i] <= to;
    }
    double window_s = (double)(to - from) / 1000.0;
    printf("| window s | due | expected to start (jitter) | started | completed | success | "
           "partial | failed | still running | max queued | max running |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|\n");
    printf("| %.1f | %ld | %.0f | %ld | %ld | %ld | %ld | %ld | %ld | %.0f | %.0f |\n", window_s,
           due, expected, s.started, s.completed, s.success, s.partial, s.failed, s.running,
           max_queued, max_running);
    double mean_s = s.completed ? s.duration_sum_s / (double)s.completed : 0;
    printf("\n| completed/s | needed/s | mean sync s | concurrency bound/s (4 / mean) | lateness "
           "p50 s | "
           "p99 s | max s | sandbox requests/sync | logged requests/sync | fetched/sync | "
           "created/sync | CPU %% of one core | CPU ms/sync | VmRSS MiB | VmHWM MiB |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    double per = s.completed ? 1.0 / (double)s.completed : 0;
    printf("| %.2f | %.1f | %.3f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | "
           "%.1f | %.1f | %.1f |\n",
           (double)s.completed / window_s, needed, mean_s, mean_s > 0 ? 4.0 / mean_s : 0,
           pct_s(&s, 0.50), pct_s(&s, 0.99), pct_s(&s, 1.0), (double)requests * per,
           (double)s.requests_made * per, (double)s.fetched * per, (double)s.created * per,
           cpu * 100.0 / wall, s.completed ? cpu * 1000.0 / (double)s.completed : 0,
           m.rss_kib / 1024.0, m.hwm_kib / 1024.0);
    printf("\nstarted / expected %.2f; lateness = started_at - (last_sync_at + %d min), jitter "
           "included.\n",
           expected > 0 ? (double)s.started / expected : 0, FREQUENCY_MIN);
    ok = true;
out:
    fflush(stdout);
    stop_pmsd(&d);
    free(s.lateness_ms);
    return ok;
}

static bool bench_fleet(void)
{
    printf("\n## c./d. setup\n\n");
    tu_sandbox box;
    memset(&box, 0, sizeof box);
    const char *args[] = {
        "--practices", SANDBOX_PRACTICES, "--practitioners",        SANDBOX_PRACTITION,
        "--seed",      SANDBOX_SEED,      "--appointments-per-day", SANDBOX_PER_DAY,
        NULL};
    if (!start_sandbox(&box, args))
        return false;
    fleet f = {0};
    double create_s = 0;
    bool ok = fleet_create(&f, &box, &create_s);
    if (ok)
        printf("Created %d accounts and %d connections with the library in one transaction in "
               "%.2f s (%.0f connections/s, secrets sealed).\n",
               ACCOUNTS, CONNECTIONS, create_s, CONNECTIONS / create_s);
    fflush(stdout);
    bool idle_ok = ok && bench_fleet_idle(&f, &box);
    bool load_ok = ok && !interrupted && bench_fleet_load(&f, &box);
    stop_sandbox(&box);
    fleet_free(&f);
    return ok && idle_ok && load_ok;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_pmsd PMSD_BIN PMS_SANDBOX_BIN PMSCTL_BIN [--quick]\n");
        return 2;
    }
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else {
            fprintf(stderr, "bench_pmsd: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    setenv("PMSD_BIN", argv[1], 1);
    setenv("PMS_SANDBOX_BIN", argv[2], 1);
    setenv("PMSCTL_BIN", argv[3], 1);
    setenv("PMSD_TEST_LOG_LEVEL", "info", 1); /* pmsd's default */
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;

    snprintf(work_dir, sizeof work_dir, "/tmp/pmsync-bench-pmsd-XXXXXX");
    if (mkdtemp(work_dir) == NULL) {
        work_dir[0] = '\0';
        fprintf(stderr, "bench_pmsd: cannot create a temporary directory\n");
        return 1;
    }
    /* Traversable (not listable) by others: nginx's workers read the body as an unprivileged
     * user when started by root. Everything else inside is 0700 / 0600. */
    chmod(work_dir, 0711);
    atexit(stop_all);

    printf("# pmsd benchmark (%d cores)%s\n", cores(), quick ? " --quick" : "");
    bool ok = true;
    ok &= bench_run_sheet();
    ok &= !interrupted && bench_idle();
    ok &= !interrupted && bench_fleet();
    fflush(stdout);
    stop_all();
    curl_global_cleanup();
    if (interrupted)
        fprintf(stderr, "bench_pmsd: interrupted\n");
    return ok && !interrupted ? 0 : 1;
}
