/* Benchmark: a sync of a large practice (40 practitioners x 60 appointments a day, 50 ms latency
 * on every request) by the real pmsctl against pms-sandbox, for each PMS. Prints HTTP requests
 * against the minimum the API's shape allows (pages plus the lookups it forces: Medirecords'
 * patients and interval codes, Halaxy's roles and patients), wall time against the lower bound
 * that latency and concurrency allow, CPU time per appointment and peak memory, for a first
 * (cold) and a repeat (warm) sync at several concurrencies.
 *
 * Usage: bench_sync PMS_SANDBOX_BIN PMSCTL_BIN [--quick] [PMS...]
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
#define PAGE_SIZE  100

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
    const char *argv[40] = {pmsctl_bin};
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

static json_t *control(const tu_sandbox *box, const char *method, const char *path)
{
    long status = 0;
    json_t *json = tu_sandbox_try_json(box, method, path, NULL, &status);
    if (json == NULL) {
        fprintf(stderr, "bench: %s %s answered %ld\n", method, path, status);
        exit(1);
    }
    return json;
}

static long api_requests(const tu_sandbox *box)
{
    json_t *stats = control(box, "GET", "/_sandbox/stats");
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

/* What the day asks of an API, from the sandbox's ground truth. */
typedef struct day_shape {
    long appointments;       /* of synced practitioners, every appointment kept */
    long practitioner_pages; /* Gentu: one search per practitioner */
    long distinct_patients;
    long distinct_roles; /* Halaxy */
} day_shape;

static day_shape shape_of(const json_t *truth, const json_t *synced)
{
    day_shape d = {0};
    json_t *per_practitioner = json_object(), *patients = json_object(), *roles = json_object();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(truth, "appointments"), i, a)
    {
        const char *pid = json_string_value(json_object_get(a, "_practitionerId"));
        if (synced && !json_object_get(synced, pid))
            continue;
        const char *kind = json_string_value(json_object_get(a, "_kind"));
        bool meeting = kind && strcmp(kind, "meeting") == 0;
        json_t *n = json_object_get(per_practitioner, pid);
        json_object_set_new(per_practitioner, pid, json_integer(n ? json_integer_value(n) + 1 : 1));
        if (!meeting) {
            d.appointments++;
            const json_t *patient = json_object_get(a, "_patientId");
            if (json_is_string(patient))
                json_object_set_new(patients, json_string_value(patient), json_true());
        }
        const json_t *role = json_object_get(a, "_practitionerRoleId");
        if (json_is_string(role))
            json_object_set_new(roles, json_string_value(role), json_true());
    }
    const char *key;
    json_t *n;
    json_object_foreach(per_practitioner, key, n)
    {
        d.practitioner_pages += (json_integer_value(n) + PAGE_SIZE - 1) / PAGE_SIZE;
    }
    d.distinct_patients = (long)json_object_size(patients);
    d.distinct_roles = (long)json_object_size(roles);
    json_decref(per_practitioner);
    json_decref(patients);
    json_decref(roles);
    return d;
}

static long ceil_div(long a, long b)
{
    return (a + b - 1) / b;
}

typedef struct measure {
    const char *pms;
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
    printf("| %-11s | %-4s | %2d | %5ld | %5ld | %5ld | %5.2f | %7.3f | %7.3f | %5.2f | %6.1f | "
           "%6.1f |\n",
           m->pms, m->kind, m->concurrency, m->appointments, m->requests, m->min_requests,
           (double)m->requests / (double)m->min_requests, m->wall_s, m->lower_bound_s,
           m->wall_s / m->lower_bound_s, m->cpu_s * 1e6 / (double)m->appointments,
           (double)m->max_rss_kib / 1024.0);
    fflush(stdout);
}

/* The minimum requests and the latency lower bound of one sync, by API shape. Sequential steps
 * cost one round trip each; independent reads (practitioners' searches, patients, roles) go
 * `concurrency` at a time. `cold`: no token stored yet (Halaxy mints one per connection). */
static void bounds(const char *pms, const day_shape *d, int concurrency, bool cold,
                   long *min_requests, double *lower_bound_s)
{
    long sequential, parallel;
    long pages = ceil_div(d->appointments, PAGE_SIZE);
    if (strcmp(pms, "gentu") == 0) {
        /* practitioners, types; then one search per practitioner */
        sequential = 2;
        parallel = d->practitioner_pages;
    } else if (strcmp(pms, "medirecords") == 0) {
        /* types, interval codes (once per process), then the pages in order; patients */
        sequential = 2 + pages;
        parallel = d->distinct_patients;
    } else {
        /* token (first sync only), practitioners, services, then the pages in order; roles
         * and patients */
        sequential = (cold ? 1 : 0) + 2 + pages;
        parallel = d->distinct_roles + d->distinct_patients;
    }
    *min_requests = sequential + parallel;
    *lower_bound_s = (double)(sequential + ceil_div(parallel, concurrency)) * LATENCY_MS / 1000.0;
}

static void bench_pms(const tu_sandbox *box, const char *pms, const int *concurrencies,
                      size_t nconc, int rounds)
{
    json_t *info = control(box, "GET", "/_sandbox/info");
    const json_t *mine = json_object_get(info, pms);
    const json_t *practice = json_array_get(
        json_object_get(mine, strcmp(pms, "gentu") == 0 ? "tenants" : "practices"), 0);
    char base[128], key[128], s1[300], s2[300], s3[300], tz[64], truth_path[400];
    snprintf(base, sizeof base, "%s/%s", box->base, pms);
    snprintf(tz, sizeof tz, "%s", json_string_value(json_object_get(practice, "timezone")));
    const char *key_name = strcmp(pms, "gentu") == 0         ? "tenantId"
                           : strcmp(pms, "medirecords") == 0 ? "practiceId"
                                                             : "clientId";
    snprintf(key, sizeof key, "%s", json_string_value(json_object_get(practice, key_name)));
    if (strcmp(pms, "gentu") == 0) {
        snprintf(s1, sizeof s1, "client_id=sandbox-client");
        snprintf(s2, sizeof s2, "client_secret=sandbox-secret");
        snprintf(s3, sizeof s3, "app_id=sandbox-app");
    } else if (strcmp(pms, "medirecords") == 0) {
        snprintf(s1, sizeof s1, "practice_id=%s", key);
        snprintf(s2, sizeof s2, "token=%s", json_string_value(json_object_get(practice, "token")));
        snprintf(s3, sizeof s3, "page_size=%d", PAGE_SIZE);
    } else {
        snprintf(s1, sizeof s1, "client_id=%s", key);
        snprintf(s2, sizeof s2, "client_secret=%s",
                 json_string_value(json_object_get(practice, "clientSecret")));
        snprintf(s3, sizeof s3, "page_size=%d", PAGE_SIZE);
    }
    char code[32] = "";
    if (strcmp(pms, "gentu") == 0)
        snprintf(code, sizeof code, "%s",
                 json_string_value(json_object_get(practice, "pairingCode")));
    snprintf(truth_path, sizeof truth_path, "/_sandbox/%s/truth?%s=%s&from=" TODAY "&to=" TODAY,
             pms, strcmp(pms, "gentu") == 0 ? "tenantId" : "practice", key);
    json_t *truth = control(box, "GET", truth_path);
    json_decref(info);

    for (size_t c = 0; c < nconc; c++) {
        int conc = concurrencies[c];
        for (int round = 0; round < rounds; round++) {
            snprintf(env_db, sizeof env_db, "PMSYNC_DB=%s/%s-%d-%d.db", work_dir, pms, conc, round);
            char conc_setting[32];
            snprintf(conc_setting, sizeof conc_setting, "concurrency=%d", conc);
            const char *add[] = {"connection",
                                 "add",
                                 "--pms",
                                 pms,
                                 "--name",
                                 "Bench",
                                 "--base-url",
                                 base,
                                 "--timezone",
                                 tz,
                                 "--all-appointments",
                                 "--set",
                                 s1,
                                 "--set",
                                 s2,
                                 "--set",
                                 s3,
                                 "--set",
                                 conc_setting,
                                 "--set",
                                 "rate_per_minute=100000",
                                 "--set",
                                 "rate_per_hour=10000000",
                                 NULL};
            run added = pmsctl(add);
            must(added, "connection add");
            char conn[40];
            snprintf(conn, sizeof conn, "%.36s", added.out);
            free(added.out);
            if (code[0]) {
                const char *pair[] = {"pair", conn, code, NULL};
                run paired = pmsctl(pair);
                must(paired, "pair");
                free(paired.out);
            }
            /* Gentu: the synced practitioners are the active ones in the appointment book. */
            json_t *synced = NULL;
            if (strcmp(pms, "gentu") == 0) {
                const char *plist[] = {"practitioners", "list", conn, "--json", NULL};
                run listed = pmsctl(plist);
                must(listed, "practitioners list");
                json_t *practitioners = json_loads(listed.out, 0, NULL);
                free(listed.out);
                synced = json_object();
                size_t i;
                json_t *p;
                json_array_foreach(practitioners, i, p)
                {
                    if (json_is_true(json_object_get(p, "synced")))
                        json_object_set_new(
                            synced, json_string_value(json_object_get(p, "pmsPractitionerId")),
                            json_true());
                }
                json_decref(practitioners);
            }
            day_shape day = shape_of(truth, synced);
            json_decref(synced);

            const char *sync[] = {"sync", conn, "--date", TODAY, NULL};
            for (int warm = 0; warm < 2; warm++) {
                long before = api_requests(box);
                run r = pmsctl(sync);
                must(r, "sync");
                free(r.out);
                measure m = {
                    .pms = pms,
                    .concurrency = conc,
                    .kind = warm ? "warm" : "cold",
                    .appointments = day.appointments,
                    .requests = api_requests(box) - before,
                    .wall_s = r.wall_s,
                    .cpu_s = r.cpu_s,
                    .max_rss_kib = r.max_rss_kib,
                };
                bounds(pms, &day, conc, !warm, &m.min_requests, &m.lower_bound_s);
                print_measure(&m);
            }
        }
    }
    json_decref(truth);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_sync PMS_SANDBOX_BIN PMSCTL_BIN [--quick] [PMS...]\n");
        return 2;
    }
    setenv("PMS_SANDBOX_BIN", argv[1], 1);
    pmsctl_bin = argv[2];
    bool quick = false;
    const char *chosen[4];
    int nchosen = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (nchosen < 3)
            chosen[nchosen++] = argv[i];
    }
    if (nchosen == 0) {
        chosen[nchosen++] = "gentu";
        chosen[nchosen++] = "medirecords";
        chosen[nchosen++] = "halaxy";
    }
    snprintf(work_dir, sizeof work_dir, "/tmp/pmsync-bench-XXXXXX");
    if (mkdtemp(work_dir) == NULL)
        return 1;
    snprintf(env_key, sizeof env_key, "PMSYNC_SECRET_KEY_FILE=%s/pmsync.key", work_dir);
    char key_path[320];
    snprintf(key_path, sizeof key_path, "%s/pmsync.key", work_dir);
    const char *key_args[] = {"key", "generate", "--file", key_path, NULL};
    free(pmsctl(key_args).out);

    tu_sandbox box;
    const char *sandbox_args[] = {"--large", "--today", TODAY, "--seed", "3", NULL};
    if (tu_sandbox_start(&box, sandbox_args) != 0) {
        fprintf(stderr, "bench: pms-sandbox did not start\n");
        return 1;
    }
    printf("# Sync benchmark: one practice per PMS, 40 practitioners x 60 appointments, %d ms "
           "latency per request, %s, every appointment kept\n",
           LATENCY_MS, TODAY);
    printf("| PMS | sync | concurrency | appointments | requests | minimum | ratio | wall s | "
           "lower bound s | ratio | CPU us/appt | peak RSS MiB |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    static const int concurrencies[] = {4, 16};
    for (int i = 0; i < nchosen; i++)
        bench_pms(&box, chosen[i], concurrencies, 2, quick ? 1 : 2);
    tu_sandbox_stop(&box);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
    return system(cmd) == 0 ? 0 : 1;
}
