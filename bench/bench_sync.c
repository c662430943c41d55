/* Benchmark: a Gentu sync of a large practice (40 practitioners x 60 appointments a day, 50 ms
 * latency per request) by the real pmsctl against pms-sandbox. Prints HTTP requests against the
 * minimum the API allows, wall time against the lower bound that latency and concurrency allow,
 * CPU time per appointment and peak memory, for a first (cold) and a repeat (warm) sync at
 * several concurrencies.
 *
 * Usage: bench_sync PMS_SANDBOX_BIN PMSCTL_BIN [--quick]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_proc.h"

#define LATENCY_MS 50
#define TODAY      "2026-06-10"

static const char *pmsctl_bin;
static char work_dir[256];
static char env_db[400], env_key[400];

typedef struct run {
    int status;
    double wall_s;
    double cpu_s;
    long max_rss_kib;
    char *out;
} run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return strdup("");
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, in) != (size_t)n)
        buf[0] = '\0';
    fclose(in);
    return buf;
}

/* Runs pmsctl with args; measures the child alone (wait4). */
static run pmsctl(const char *const *args)
{
    const char *argv[32] = {pmsctl_bin};
    int argc = 1;
    for (int i = 0; args[i]; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    char out_path[320];
    snprintf(out_path, sizeof out_path, "%s/out", work_dir);
    const char *envp[] = {env_db, env_key, "PMSYNC_LOG_LEVEL=error", NULL};
    run r = {0};
    double started = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0)
            _exit(127);
        execve(pmsctl_bin, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    r.wall_s = now_s() - started;
    r.cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
              (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    r.max_rss_kib = ru.ru_maxrss;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    r.out = slurp(out_path);
    return r;
}

static json_t *control(const tu_sandbox *box, const char *method, const char *path,
                       const char *body)
{
    long status = 0;
    json_t *json = tu_sandbox_try_json(box, method, path, body, &status);
    if (json == NULL) {
        fprintf(stderr, "bench: %s %s answered %ld\n", method, path, status);
        exit(1);
    }
    return json;
}

static long api_requests(const tu_sandbox *box)
{
    json_t *stats = control(box, "GET", "/_sandbox/stats", NULL);
    long total = (long)json_integer_value(json_object_get(stats, "total"));
    json_decref(stats);
    return total;
}

static void must(run r, const char *what)
{
    if (r.status != 0) {
        fprintf(stderr, "bench: %s failed (exit %d): %s\n", what, r.status, r.out);
        exit(1);
    }
}

typedef struct measure {
    int concurrency;
    const char *kind;
    long appointments;
    long requests, min_requests;
    double wall_s, lower_bound_s;
    double cpu_s;
    long max_rss_kib;
} measure;

static void print_measure(const measure *m)
{
    printf("| %-4s | %2d | %5ld | %4ld | %4ld | %5.2f | %6.3f | %6.3f | %5.2f | %6.1f | %6.1f |\n",
           m->kind, m->concurrency, m->appointments, m->requests, m->min_requests,
           (double)m->requests / (double)m->min_requests, m->wall_s, m->lower_bound_s,
           m->wall_s / m->lower_bound_s, m->cpu_s * 1e6 / (double)m->appointments,
           (double)m->max_rss_kib / 1024.0);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_sync PMS_SANDBOX_BIN PMSCTL_BIN [--quick]\n");
        return 2;
    }
    setenv("PMS_SANDBOX_BIN", argv[1], 1);
    pmsctl_bin = argv[2];
    bool quick = argc > 3 && strcmp(argv[3], "--quick") == 0;
    snprintf(work_dir, sizeof work_dir, "/tmp/pmsync-bench-XXXXXX");
    if (mkdtemp(work_dir) == NULL)
        return 1;
    snprintf(env_key, sizeof env_key, "PMSYNC_SECRET_KEY_FILE=%s/pmsync.key", work_dir);

    tu_sandbox box;
    const char *sandbox_args[] = {"--large", "--today", TODAY, "--seed", "3", NULL};
    if (tu_sandbox_start(&box, sandbox_args) != 0) {
        fprintf(stderr, "bench: pms-sandbox did not start\n");
        return 1;
    }
    json_t *info = control(&box, "GET", "/_sandbox/info", NULL);
    json_t *tenant = json_array_get(json_object_get(json_object_get(info, "gentu"), "tenants"), 0);
    char tenant_id[64], code[32], base[128];
    snprintf(tenant_id, sizeof tenant_id, "%s",
             json_string_value(json_object_get(tenant, "tenantId")));
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(tenant, "pairingCode")));
    snprintf(base, sizeof base, "%s/gentu", box.base);
    json_decref(info);

    /* The minimum: one page per practitioner with appointments that day (<= 100 each), plus
     * the practitioner and type lists, plus a token when none is cached. */
    char truth_path[256];
    snprintf(truth_path, sizeof truth_path,
             "/_sandbox/gentu/truth?tenantId=%s&from=" TODAY "&to=" TODAY, tenant_id);
    json_t *truth = control(&box, "GET", truth_path, NULL);

    printf("# Gentu sync benchmark: 1 practice, %d ms latency per request, date %s\n", LATENCY_MS,
           TODAY);
    printf("| sync | concurrency | appointments | requests | minimum | ratio | wall s | "
           "lower bound s | ratio | CPU us/appt | peak RSS MiB |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    const int concurrencies[] = {4, 8, 16};
    int rounds = quick ? 1 : 3;
    for (size_t c = 0; c < sizeof concurrencies / sizeof concurrencies[0]; c++) {
        int conc = concurrencies[c];
        for (int round = 0; round < rounds; round++) {
            snprintf(env_db, sizeof env_db, "PMSYNC_DB=%s/bench-%d-%d.db", work_dir, conc, round);
            char conc_setting[32];
            snprintf(conc_setting, sizeof conc_setting, "concurrency=%d", conc);
            const char *add[] = {"connection",
                                 "add",
                                 "--pms",
                                 "gentu",
                                 "--name",
                                 "Bench",
                                 "--base-url",
                                 base,
                                 "--all-appointments",
                                 "--set",
                                 "client_id=sandbox-client",
                                 "--set",
                                 "client_secret=sandbox-secret",
                                 "--set",
                                 "app_id=sandbox-app",
                                 "--set",
                                 conc_setting,
                                 "--set",
                                 "rate_per_minute=100000",
                                 NULL};
            run added = pmsctl(add);
            must(added, "connection add");
            char conn[40];
            snprintf(conn, sizeof conn, "%.36s", added.out);
            free(added.out);
            const char *pair[] = {"pair", conn, code, NULL};
            run paired = pmsctl(pair);
            must(paired, "pair");
            free(paired.out);

            /* Practitioners synced = active and shown in the appointment book. */
            const char *plist[] = {"practitioners", "list", conn, "--json", NULL};
            run listed = pmsctl(plist);
            must(listed, "practitioners list");
            json_t *practitioners = json_loads(listed.out, 0, NULL);
            free(listed.out);
            json_t *synced = json_object();
            size_t i;
            json_t *p;
            json_array_foreach(practitioners, i, p) if (json_is_true(json_object_get(p, "synced")))
                json_object_set_new(synced,
                                    json_string_value(json_object_get(p, "pmsPractitionerId")),
                                    json_integer(0));
            json_decref(practitioners);
            json_t *a;
            long appointments = 0;
            json_array_foreach(json_object_get(truth, "appointments"), i, a)
            {
                json_t *n = json_object_get(
                    synced, json_string_value(json_object_get(a, "_practitionerId")));
                if (n) {
                    json_integer_set(n, json_integer_value(n) + 1);
                    appointments++;
                }
            }
            long pages = 0;
            const char *key;
            json_t *n;
            json_object_foreach(synced, key, n)
            {
                long k = (long)json_integer_value(n);
                pages += k == 0 ? 1 : (k + 99) / 100;
            }
            json_decref(synced);

            const char *sync[] = {"sync", conn, "--date", TODAY, NULL};
            for (int warm = 0; warm < 2; warm++) {
                long before = api_requests(&box);
                run r = pmsctl(sync);
                must(r, "sync");
                free(r.out);
                measure m = {
                    .concurrency = conc,
                    .kind = warm ? "warm" : "cold",
                    .appointments = appointments,
                    .requests = api_requests(&box) - before,
                    /* the token minted at pairing is cached: lists + pages */
                    .min_requests = 2 + pages,
                    .wall_s = r.wall_s,
                    .lower_bound_s =
                        (2.0 + (double)((pages + conc - 1) / conc)) * LATENCY_MS / 1000.0,
                    .cpu_s = r.cpu_s,
                    .max_rss_kib = r.max_rss_kib,
                };
                print_measure(&m);
            }
        }
    }
    json_decref(truth);
    tu_sandbox_stop(&box);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
