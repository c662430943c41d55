/* Benchmark: the store. Three measurements, each bounded in time and count:
 *
 *  a. SQLite: appointment upserts per second through the store, on a real file, against the
 *     sqlite3 shell's `.import` of the same rows (CSV) into a table of the same shape.
 *  b. PostgreSQL (a private cluster, pg_proc.h): the same upserts against a plain `COPY ... FROM
 *     STDIN` (libpq, text format) of the same rows into a table of the same shape.
 *  c. Lease claims per second with 1, 3 and 8 workers (threads, a store handle each) claiming
 *     and releasing due connections as fast as they can, on PostgreSQL and on SQLite, counting
 *     any connection held by two workers at once and checking every fencing token.
 *
 * The upserts follow the path of a sync (src/sync/engine.c, on_batch and upsert): batches of
 * 100 appointments (the adapters' page), one write transaction each; per appointment the run
 * sheet of its day (cached for the run), the content hash, entry_state_pms, and for a new one
 * the OCR match and entry_insert (entry_update_source for a changed one); per batch that changed
 * something the audit record pmsd writes in before_commit (pms_audit_append_tx, "sync.write",
 * the batch's patients), then the lease check (fence) and the commit. Each backend runs a first
 * insert of N new appointments and a re-upsert of the same N unchanged (a steady-state sync),
 * then exports the stored rows and loads them with the baseline: the ratios compare rows written
 * per second.
 *
 * The cluster and the temporary directory are removed on every way out. Prints figures and
 * ratios, no thresholds: the exit status is non-zero only when something could not be measured
 * or a check failed (a connection claimed twice at once, a wrong row count).
 *
 * PostgreSQL plans from statistics: the bench runs ANALYZE on the appointments after the first
 * batch (outside the clock), as autovacuum does within its first minute. --no-analyze leaves the
 * table without statistics, as a new database is during its first minute: the appointment
 * lookups then scan every row of the connection (use with --quick: the passes are quadratic).
 *
 * Usage: bench_store [--quick] [--no-analyze]   (sqlite3 from PATH, or the SQLITE3 environment
 * variable)
 */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pg_proc.h"
#include "pmsync/audit.h"
#include "pmsync/names.h"
#include "pmsync/store.h"
#include "pmsync/tz.h"

/* a./b. the appointments: DAYS x CLINICIANS x PER_DAY */
#define DAYS            10
#define DAYS_QUICK      2
#define CLINICIANS      40
#define PER_DAY         60
#define BATCH           100 /* the adapters' default page: one engine transaction */
#define PATIENTS        9000
#define FIRST_DAY       ((pms_date){2026, 6, 1})
#define TIMEZONE        "Australia/Melbourne"
#define CONNECTION_ID   "b0000000-0000-4000-8000-000000000001"
#define WORKER          "bench-store"
#define LEASE_MS        600000L
#define SHELL_TIMEOUT_S 60
#define BASELINE_TRIES  3
/* c. leases */
#define LEASE_CONNECTIONS       2000
#define LEASE_CONNECTIONS_QUICK 500
#define LEASE_SECONDS           3.0
#define LEASE_SECONDS_QUICK     1.0
#define CLAIM_MAX               1 /* a worker's free slot: the scheduler claims one at a time */
#define MAX_WORKERS             8
#define LATENCIES               200000

static bool quick;
static bool analyze = true; /* PostgreSQL: ANALYZE after the first batch, as autovacuum would */
static int rows_n;
static char work_dir[256];
static tu_pg cluster;
static bool cluster_up;
static volatile sig_atomic_t interrupted;
static const pms_tz *zone;

/* ---- small helpers --------------------------------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Bytes a process (0: this one) has written with write(2) and friends so far; -1 unknown. */
static long long proc_written(pid_t pid)
{
    char path[64], line[128];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    else
        snprintf(path, sizeof path, "/proc/self/io");
    FILE *f = fopen(path, "r");
    long long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static void nap_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static bool failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_store: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return false;
}

static void cleanup(void)
{
    if (cluster_up) {
        tu_pg_stop(&cluster);
        cluster_up = false;
    }
    if (work_dir[0]) {
        char cmd[320];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_store: could not remove %s\n", work_dir);
        work_dir[0] = '\0';
    }
}

/* A growing byte buffer. */
typedef struct buffer {
    char *data;
    size_t len, cap;
} buffer;

static bool buf_add(buffer *b, const char *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL)
            return false;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *sorted, size_t n, double p)
{
    return n ? sorted[(size_t)(p * (double)(n - 1) + 0.5)] : 0;
}

/* utime + stime (+ the reaped children's) of a process, seconds; -1 when it is gone. */
static double proc_cpu_s(pid_t pid, pid_t *ppid, bool with_children)
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
    long cut = 0, cst = 0;
    int parent = 0;
    if (p == NULL || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld",
                            &parent, &ut, &st, &cut, &cst) != 5)
        return -1;
    if (ppid)
        *ppid = parent;
    unsigned long ticks = ut + st + (with_children ? (unsigned long)(cut + cst) : 0);
    return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* CPU of the PostgreSQL server: the postmaster, its live children (backends, walwriter,
 * autovacuum ...) and the children it reaped. -1 without a cluster. */
static double server_cpu_s(void)
{
    if (!cluster_up)
        return -1;
    char path[400], line[32] = "";
    snprintf(path, sizeof path, "%s/data/postmaster.pid", cluster.dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    bool read_ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    pid_t postmaster = read_ok ? (pid_t)atol(line) : 0;
    if (postmaster <= 0)
        return -1;
    double total = proc_cpu_s(postmaster, NULL, true);
    char task[64];
    snprintf(task, sizeof task, "/proc/%d/task/%d/children", (int)postmaster, (int)postmaster);
    FILE *children = fopen(task, "r");
    long child;
    while (children && fscanf(children, "%ld", &child) == 1) {
        double cpu = proc_cpu_s((pid_t)child, NULL, false);
        if (cpu > 0)
            total += cpu;
    }
    if (children)
        fclose(children);
    return total;
}

/* ---- the appointments ------------------------------------------------------------------------ */

static const char *const first_names[] = {"Olivia", "Noah",  "Charlotte", "Jack",  "Amelia",
                                          "Oliver", "Isla",  "William",   "Mia",   "Leo",
                                          "Ava",    "Henry", "Grace",     "Lucas", "Zoe"};

/* Appointment i of the run (every field a Gentu sync fills, and a raw record of the size Gentu
 * sends), into a zero-initialised *a. Made-up people: "Testpatient" family names, phone numbers
 * from the range reserved for fiction. */
static bool make_appointment(int i, pms_appointment *a)
{
    int day = i / (CLINICIANS * PER_DAY), clinician = (i / PER_DAY) % CLINICIANS,
        slot = i % PER_DAY, patient = (int)(((long)i * 7919) % PATIENTS);
    char id[64], patient_id[64], practitioner_id[64], name[96], first[32], last[32], phone[32],
        email[96], practitioner[64], practitioner_last[32];
    snprintf(id, sizeof id, "%08x-61c0-4b1b-9519-%012d", (unsigned)i * 2654435761u, i);
    snprintf(patient_id, sizeof patient_id, "d011246e-bc0b-4913-9742-%012d", patient);
    snprintf(practitioner_id, sizeof practitioner_id, "b3c7c80d-7148-4ff5-90f1-%012d", clinician);
    snprintf(first, sizeof first, "%s", first_names[patient % 15]);
    snprintf(last, sizeof last, "Testpatient%04d", patient);
    snprintf(name, sizeof name, "%s %s", first, last);
    snprintf(phone, sizeof phone, "+61491570%03d", patient % 1000);
    snprintf(email, sizeof email, "patient%04d@example.com", patient);
    snprintf(practitioner_last, sizeof practitioner_last, "Citizen%02d", clinician);
    snprintf(practitioner, sizeof practitioner, "Dr Jane %s", practitioner_last);
    pms_instant start = pms_tz_day_start(zone, pms_date_add_days(FIRST_DAY, day)) +
                        (pms_instant)(8 * 60 + slot * 10) * 60000;
    pms_appointment_init(a);
    a->start_time = start;
    a->end_time = start + 10 * 60000;
    a->duration_minutes = 10;
    a->is_telehealth = true;
    a->status = PMS_STATUS_CONFIRMED;
    a->patient.has_date_of_birth = true;
    a->patient.date_of_birth = (pms_date){1950 + patient % 60, 1 + patient % 12, 1 + patient % 28};
    a->pms_created_at = start - 7 * 86400000LL;
    a->pms_updated_at = start - 86400000LL;
    a->fetched_at = pms_now();
    char start_text[PMS_TIME_BUFLEN], end_text[PMS_TIME_BUFLEN];
    pms_format_utc(a->start_time, start_text);
    pms_format_utc(a->end_time, end_text);
    a->raw_data = json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}], s:{s:s}, "
        "s:[]}",
        "id", id, "startAt", start_text, "endAt", end_text, "status", "confirmed",
        "minutesDuration", 10, "comment", "Patient to arrive 15 minutes prior.", "description",
        "Telehealth review", "participant", "referenceType", "patient", "referenceId", patient_id,
        "referenceType", "provider", "referenceId", practitioner_id, "referenceType", "location",
        "referenceId", "fb5f0949-875e-4a35-9719-5727f3179651", "appointmentType", "reference",
        "ac433a35-b2c5-4b8f-ab23-fe95714f6593", "extension");
    return a->raw_data && !pms_str_set(&a->pms_appointment_id, id) &&
           !pms_str_set(&a->timezone, TIMEZONE) &&
           !pms_str_set(&a->appointment_type_name, "Telehealth Consultation") &&
           !pms_str_set(&a->appointment_type_id, "ac433a35-b2c5-4b8f-ab23-fe95714f6593") &&
           !pms_str_set(&a->patient.pms_patient_id, patient_id) &&
           !pms_str_set(&a->patient.full_name, name) &&
           !pms_str_set(&a->patient.first_name, first) &&
           !pms_str_set(&a->patient.last_name, last) && !pms_str_set(&a->patient.phone, phone) &&
           !pms_str_set(&a->patient.email, email) &&
           !pms_str_set(&a->practitioner.pms_practitioner_id, practitioner_id) &&
           !pms_str_set(&a->practitioner.full_name, practitioner) &&
           !pms_str_set(&a->practitioner.first_name, "Jane") &&
           !pms_str_set(&a->practitioner.last_name, practitioner_last) &&
           !pms_str_set(&a->notes, "Patient to arrive 15 minutes prior.") &&
           !pms_str_set(&a->telehealth_url_provider, "https://video.example.com/p/bench") &&
           !pms_str_set(&a->location_name, "Telehealth");
}

/* ---- the sync's write path ------------------------------------------------------------------ */

typedef struct writer {
    pms_store *st;
    const pms_keyring *ring;
    const char *analyze_db; /* PostgreSQL: the database to ANALYZE after the first batch */
    PGconn *wal;            /* PostgreSQL: a connection of our own to read the WAL position */
    char clinicians[CLINICIANS][PMS_STORE_ID_LEN];
    long long token; /* our lease on the connection */
    char *sheets[DAYS];
} writer;

typedef struct pass_result {
    double wall_s, cpu_s, server_cpu_s;
    long created, updated, unchanged, batches;
    int tries;         /* baselines: the best of this many runs */
    double worst_s;    /* and the slowest of them */
    long long written; /* SQLite: bytes the process wrote (WAL, checkpoints); PostgreSQL: WAL */
    /* store passes: wall seconds in each step (the rest: hashing, name keys, entries) */
    double t_begin, t_lookup, t_ocr, t_write, t_audit, t_fence, t_commit;
} pass_result;

/* Keeps the faster of *best and r (a baseline is short: the best of a few runs is its limit on
 * a machine that other work shares). */
static void keep_best(pass_result *best, const pass_result *r)
{
    double worst = best->tries && best->worst_s > r->wall_s ? best->worst_s : r->wall_s;
    int tries = best->tries + 1;
    if (best->tries == 0 || r->wall_s < best->wall_s)
        *best = *r;
    best->tries = tries;
    best->worst_s = worst;
}

/* A Gentu connection of the default account, enabled, never synced (so due at once). */
static bool add_connection(pms_store *st, const char *id, const char *name)
{
    pms_connection c = {
        .id = (char *)id,
        .account_id = (char *)PMS_DEFAULT_ACCOUNT_ID,
        .pms_type = (char *)"gentu",
        .display_name = (char *)name,
        .timezone = (char *)TIMEZONE,
        .sync_enabled = true,
        .sync_frequency_minutes = 15,
        .sync_telehealth_only = true,
        .token_expires_at = PMS_INSTANT_NONE,
        .last_sync_at = PMS_INSTANT_NONE,
        .paired_at = PMS_INSTANT_NONE,
    };
    pms_error err = {0};
    return st->ops->connection_insert(st, &c, &err) == PMS_OK ||
           failf("connection_insert: %s", err.message);
}

/* The connection, the clinicians and our lease. */
static bool writer_setup(writer *w, const char *location)
{
    pms_error err = {0};
    memset(w, 0, sizeof *w);
    if (pms_store_open(location, true, &w->st, &err) != PMS_OK)
        return failf("cannot open the store: %s", err.message);
    if (!add_connection(w->st, CONNECTION_ID, "Bench clinic"))
        return false;
    for (int k = 0; k < CLINICIANS; k++) {
        char name[64];
        snprintf(name, sizeof name, "Dr Jane Citizen%02d", k);
        pms_clinician cl = {.account_id = (char *)PMS_DEFAULT_ACCOUNT_ID, .name = name};
        int rc = w->st->ops->clinician_insert(w->st, &cl, &err);
        if (rc == PMS_OK)
            snprintf(w->clinicians[k], sizeof w->clinicians[k], "%s", cl.id);
        free(cl.id);
        if (rc != PMS_OK)
            return failf("clinician_insert: %s", err.message);
    }
    pms_lease lease;
    int count = 0;
    if (w->st->ops->lease_claim(w->st, WORKER, pms_now(), LEASE_MS, 1, false, &lease, &count,
                                &err) != PMS_OK ||
        count != 1)
        return failf("cannot claim the connection: %s", count ? err.message : "not due");
    w->token = lease.token;
    return true;
}

static void writer_close(writer *w)
{
    for (int d = 0; d < DAYS; d++)
        free(w->sheets[d]);
    pms_store_close(w->st);
    memset(w, 0, sizeof *w);
}

/* What upsert() in engine.c does for one appointment (taking *a's contents). */
static int upsert_one(writer *w, pms_appointment *a, const char *clinician_id, int *outcome,
                      pass_result *r, pms_error *err)
{
    pms_store *st = w->st;
    pms_date day = pms_tz_date_of(zone, a->start_time);
    int d = (int)(pms_days_from_date(day) - pms_days_from_date(FIRST_DAY));
    if (d < 0 || d >= DAYS)
        return pms_error_set(err, PMS_ERR_INVALID, "a day outside the run");
    if (w->sheets[d] == NULL && st->ops->run_sheet_ensure(st, PMS_DEFAULT_ACCOUNT_ID, day, TIMEZONE,
                                                          &w->sheets[d], err) != PMS_OK)
        return err->code;
    const char *sheet_id = w->sheets[d];
    pms_sheet_entry in;
    pms_sheet_entry_init(&in);
    in.appt = *a;
    pms_appointment_init(a);
    int rc = PMS_OK;
    if (pms_str_set(&in.appt.pms_connection_id, CONNECTION_ID) ||
        pms_str_set(&in.appt.pms_type, "gentu") || pms_str_set(&in.run_sheet_id, sheet_id) ||
        pms_str_set(&in.clinician_id, clinician_id)) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    pms_appointment_content_hash(&in.appt, in.content_hash);
    in.source = PMS_SOURCE_PMS;
    in.pms_last_synced_at = pms_now();
    pms_entry_state existing;
    double t = mono_s();
    rc = st->ops->entry_state_pms(st, CONNECTION_ID, in.appt.pms_appointment_id, &existing, err);
    r->t_lookup += mono_s() - t;
    if (rc == PMS_OK) {
        if (strcmp(existing.content_hash, in.content_hash) == 0 &&
            strcmp(existing.run_sheet_id, sheet_id) == 0 &&
            strcmp(existing.clinician_id, clinician_id) == 0 && !existing.removed) {
            *outcome = 0;
            goto out;
        }
        if (pms_str_set(&in.id, existing.id)) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto out;
        }
        t = mono_s();
        rc = st->ops->entry_update_source(st, &in, err);
        r->t_write += mono_s() - t;
        *outcome = 2;
        goto out;
    }
    if (rc != PMS_ERR_NOT_FOUND)
        goto out;
    char *ocr_id = NULL;
    char *key = pms_name_match_key(in.appt.patient.full_name);
    t = mono_s();
    rc = key ? st->ops->entry_find_ocr_match(st, sheet_id, clinician_id, in.appt.start_time, key,
                                             &ocr_id, NULL)
             : PMS_ERR_NOT_FOUND;
    r->t_ocr += mono_s() - t;
    free(key);
    t = mono_s();
    if (rc == PMS_OK) {
        in.id = ocr_id;
        rc = st->ops->entry_update_source(st, &in, err);
        *outcome = 2;
    } else {
        rc = st->ops->entry_insert(st, &in, err);
        *outcome = 1;
    }
    r->t_write += mono_s() - t;
out:
    pms_sheet_entry_clear(&in);
    return rc;
}

/* The audit record of a batch that changed appointments: pmsd_on_sync_batch's (each patient
 * once, in first-seen order, as engine.c's before_commit hands them over). */
static int audit_batch(writer *w, const json_t *patients, pms_error *err)
{
    json_t *unique = json_array(), *seen = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(patients, i, v)
    {
        if (json_object_get(seen, json_string_value(v)) == NULL) {
            json_object_set_new(seen, json_string_value(v), json_true());
            json_array_append(unique, v);
        }
    }
    pms_audit_event event = {
        .account_id = PMS_DEFAULT_ACCOUNT_ID,
        .actor_role = "system",
        .action = "sync.write",
        .resource = "pms_connections/" CONNECTION_ID "/sync",
        .patient_ids = unique,
    };
    int rc = unique && seen ? pms_audit_append_tx(w->st, w->ring, &event, NULL, err)
                            : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    json_decref(unique);
    json_decref(seen);
    return rc;
}

static bool analyze_appointments(const char *db);
static long long wal_position(PGconn *conn);

/* What the pass has written so far: the process's bytes (SQLite), the cluster's WAL (PG). */
static long long written_now(const writer *w)
{
    return w->wal ? wal_position(w->wal) : proc_written(0);
}

/* One sync's writes of the n appointments: batches of BATCH, each in its own transaction. The
 * appointments are made before each batch's clock starts (that is the adapter's work). */
static bool run_pass(writer *w, int n, pass_result *r)
{
    memset(r, 0, sizeof *r);
    for (int d = 0; d < DAYS; d++) {
        free(w->sheets[d]);
        w->sheets[d] = NULL; /* the engine's cache lives for one run */
    }
    pms_appointment *items = calloc(BATCH, sizeof *items);
    if (items == NULL)
        return failf("out of memory");
    pms_store *st = w->st;
    pms_error err = {0};
    bool ok = true;
    double server0 = server_cpu_s();
    long long written0 = written_now(w);
    for (int first = 0; first < n && ok && !interrupted; first += BATCH) {
        int count = n - first < BATCH ? n - first : BATCH;
        for (int k = 0; k < count && ok; k++)
            ok = make_appointment(first + k, &items[k]) || failf("out of memory");
        if (!ok) {
            for (int k = 0; k < count; k++)
                pms_appointment_clear(&items[k]);
            break;
        }
        double t0 = mono_s(), c0 = self_cpu_s();
        json_t *patients = json_array();
        long changed = 0;
        int rc = patients ? st->ops->begin(st, &err) : PMS_ERR_NOMEM;
        r->t_begin += mono_s() - t0;
        for (int k = 0; k < count && rc == PMS_OK; k++) {
            int outcome = 0;
            const char *patient = items[k].patient.pms_patient_id;
            if (patient)
                patient = strdup(patient);
            int clinician = ((first + k) / PER_DAY) % CLINICIANS;
            rc = upsert_one(w, &items[k], w->clinicians[clinician], &outcome, r, &err);
            if (rc == PMS_OK && outcome != 0 && patient)
                json_array_append_new(patients, json_string(patient));
            free((char *)patient);
            r->created += outcome == 1;
            r->updated += outcome == 2;
            r->unchanged += outcome == 0 && rc == PMS_OK;
            changed += outcome != 0;
        }
        double t = mono_s();
        if (rc == PMS_OK && changed > 0)
            rc = audit_batch(w, patients, &err);
        r->t_audit += mono_s() - t;
        t = mono_s();
        if (rc == PMS_OK)
            rc = st->ops->lease_check(st, CONNECTION_ID, w->token, pms_now() + LEASE_MS, &err);
        r->t_fence += mono_s() - t;
        t = mono_s();
        if (rc == PMS_OK)
            rc = st->ops->commit(st, &err);
        r->t_commit += mono_s() - t;
        if (rc != PMS_OK) {
            st->ops->rollback(st);
            ok = failf("batch at %d: %s", first, err.message);
        }
        json_decref(patients);
        r->wall_s += mono_s() - t0;
        r->cpu_s += self_cpu_s() - c0;
        r->batches++;
        if (ok && first == 0 && w->analyze_db)
            ok = analyze_appointments(w->analyze_db);
        for (int k = 0; k < count; k++)
            pms_appointment_clear(&items[k]);
    }
    double server1 = server_cpu_s();
    r->server_cpu_s = server0 >= 0 && server1 >= 0 ? server1 - server0 : -1;
    long long written1 = written_now(w);
    r->written = written0 >= 0 && written1 >= 0 ? written1 - written0 : -1;
    free(items);
    return ok && !interrupted;
}

/* ---- running the sqlite3 shell -------------------------------------------------------------- */

/* Runs argv (stdout and stderr to out_path), waits at most SHELL_TIMEOUT_S; its wall and CPU. */
static bool run_timed(const char *const *argv, const char *out_path, double *wall_s, double *cpu_s,
                      long long *written)
{
    pid_t parent = getpid();
    double t0 = mono_s();
    pid_t pid = fork();
    if (pid < 0)
        return failf("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(127);
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "cannot run %s: %s (Debian: apt-get install sqlite3)\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    for (;;) {
        /* Exited: its I/O counters are read before it is reaped. */
        siginfo_t info = {0};
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == pid) {
            *wall_s = mono_s() - t0;
            *written = proc_written(pid);
            wait4(pid, &status, 0, &ru);
            break;
        }
        if (errno == ECHILD)
            return failf("wait: %s", strerror(errno));
        if (mono_s() - t0 > SHELL_TIMEOUT_S || interrupted) {
            kill(pid, SIGKILL);
            wait4(pid, &status, 0, &ru);
            return failf("%s did not finish in %d s", argv[0], SHELL_TIMEOUT_S);
        }
        nap_us(2000);
    }
    *cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
             (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        FILE *f = fopen(out_path, "r");
        char line[512] = "";
        if (f) {
            if (fgets(line, sizeof line, f) == NULL)
                line[0] = '\0';
            fclose(f);
        }
        return failf("%s failed (status %d): %s", argv[0], status, line);
    }
    return true;
}

/* ---- SQLite helpers ------------------------------------------------------------------------- */

static bool sq_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return true;
    failf("sqlite: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return false;
}

static long long sq_count(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    long long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

static bool csv_field(buffer *b, const char *text)
{
    if (text == NULL)
        return true; /* NULL: an empty field (.import stores '') */
    if (strpbrk(text, ",\"\r\n") == NULL)
        return buf_add(b, text, strlen(text));
    bool ok = buf_add(b, "\"", 1);
    for (const char *p = text; *p && ok; p++)
        ok = *p == '"' ? buf_add(b, "\"\"", 2) : buf_add(b, p, 1);
    return ok && buf_add(b, "\"", 1);
}

/* Every stored appointment as CSV (no header, the table's column order) into csv_path; the
 * table's DDL without constraints (column names and declared types) into *plain and with them
 * and its indexes into *indexed. */
static bool sqlite_export(const char *db_path, const char *csv_path, buffer *plain, buffer *indexed,
                          long *rows, size_t *bytes)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    buffer csv = {0};
    bool ok = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(db, "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid",
                                 -1, &stmt, NULL) == SQLITE_OK;
    ok = ok && buf_add(plain, "CREATE TABLE run_sheet_appointments (", 37);
    if (ok) {
        sqlite3_bind_text(stmt, 1, "run_sheet_appointments", -1, SQLITE_STATIC);
        for (int i = 0; ok && sqlite3_step(stmt) == SQLITE_ROW; i++) {
            const char *name = (const char *)sqlite3_column_text(stmt, 0),
                       *type = (const char *)sqlite3_column_text(stmt, 1);
            ok = (i == 0 || buf_add(plain, ", ", 2)) && buf_add(plain, name, strlen(name)) &&
                 buf_add(plain, " ", 1) && buf_add(plain, type, strlen(type));
        }
    }
    ok = ok && buf_add(plain, ");", 2);
    sqlite3_finalize(stmt);
    stmt = NULL;
    ok = ok && sqlite3_prepare_v2(db,
                                  "SELECT sql || ';' FROM sqlite_schema WHERE tbl_name = "
                                  "'run_sheet_appointments' AND type IN ('table', 'index') "
                                  "AND sql IS NOT NULL ORDER BY type = 'index', name",
                                  -1, &stmt, NULL) == SQLITE_OK;
    while (ok && sqlite3_step(stmt) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(stmt, 0);
        ok = buf_add(indexed, sql, strlen(sql)) && buf_add(indexed, "\n", 1);
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    ok = ok && sqlite3_prepare_v2(db, "SELECT * FROM run_sheet_appointments ORDER BY rowid", -1,
                                  &stmt, NULL) == SQLITE_OK;
    *rows = 0;
    while (ok && sqlite3_step(stmt) == SQLITE_ROW) {
        int cols = sqlite3_column_count(stmt);
        for (int c = 0; c < cols && ok; c++)
            ok = (c == 0 || buf_add(&csv, ",", 1)) &&
                 csv_field(&csv, (const char *)sqlite3_column_text(stmt, c));
        ok = ok && buf_add(&csv, "\n", 1);
        ++*rows;
    }
    if (!ok)
        failf("exporting the stored rows: %s", db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    FILE *out = ok ? fopen(csv_path, "w") : NULL;
    ok = out && fwrite(csv.data, 1, csv.len, out) == csv.len;
    if (out && fclose(out) != 0)
        ok = false;
    *bytes = csv.len;
    free(csv.data);
    return ok || failf("cannot write %s", csv_path);
}

/* The sqlite3 shell's .import of csv_path into a new file made with ddl (WAL, as the store's),
 * with the store's synchronous=NORMAL. */
static bool shell_import(const char *name, const char *ddl, const char *csv_path, long rows,
                         pass_result *best)
{
    char db_path[400], out_path[400], import[600], wal[420], shm[420];
    snprintf(db_path, sizeof db_path, "%s/%s.db", work_dir, name);
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    snprintf(shm, sizeof shm, "%s-shm", db_path);
    snprintf(out_path, sizeof out_path, "%s/%s.out", work_dir, name);
    snprintf(import, sizeof import, ".import '%s' run_sheet_appointments", csv_path);
    const char *shell = getenv("SQLITE3") ? getenv("SQLITE3") : "sqlite3";
    const char *argv[] = {shell,       "-batch", db_path, "PRAGMA synchronous=NORMAL",
                          ".mode csv", import,   NULL};
    memset(best, 0, sizeof *best);
    for (int t = 0; t < BASELINE_TRIES && !interrupted; t++) {
        unlink(db_path);
        unlink(wal);
        unlink(shm);
        sqlite3 *db = NULL;
        bool ok = sqlite3_open(db_path, &db) == SQLITE_OK &&
                  sq_exec(db, "PRAGMA journal_mode=WAL") && sq_exec(db, ddl);
        sqlite3_close(db);
        if (!ok)
            return false;
        pass_result r = {.server_cpu_s = -1};
        if (!run_timed(argv, out_path, &r.wall_s, &r.cpu_s, &r.written))
            return false;
        long long got = sq_count(db_path, "SELECT COUNT(*) FROM run_sheet_appointments");
        if (got != rows)
            return failf(".import into %s stored %lld rows, not %ld", name, got, rows);
        r.created = rows;
        keep_best(best, &r);
    }
    return !interrupted;
}

/* ---- printing ------------------------------------------------------------------------------- */

static void print_header(bool server)
{
    printf("| path | rows | s | rows/s | µs/row | bench CPU s |%s %s |\n",
           server ? " server CPU s |" : "", server ? "WAL bytes/row" : "bytes written/row");
    printf("|---|---|---|---|---|---|---|%s\n", server ? "---|" : "");
}

static void print_row(const char *what, long rows, const pass_result *r, bool server)
{
    char label[160];
    if (r->tries > 1)
        snprintf(label, sizeof label, "%s (best of %d; slowest %.3f s)", what, r->tries,
                 r->worst_s);
    else
        snprintf(label, sizeof label, "%s", what);
    printf("| %s | %ld | %.3f | %.0f | %.1f | %.3f |", label, rows, r->wall_s,
           (double)rows / r->wall_s, r->wall_s * 1e6 / (double)rows, r->cpu_s);
    if (server)
        printf(" %.3f |", r->server_cpu_s);
    printf(" %.0f |\n", r->written >= 0 ? (double)r->written / (double)rows : -1.0);
}

static void print_ratios(const char *limit, const pass_result *insert, const pass_result *same,
                         const pass_result *plain, const pass_result *indexed)
{
    double base = 1.0 / plain->wall_s, base_idx = 1.0 / indexed->wall_s;
    double ins = 1.0 / insert->wall_s, uns = 1.0 / same->wall_s;
    printf("\nupserts/s ÷ %s rows/s (the ratio: first insert vs %s into the plain table):\n"
           "  first insert %.3f (%s %.1fx faster); against the table with its indexes %.3f\n"
           "  re-upsert unchanged %.3f (writes nothing: a lookup per row and a commit per "
           "batch); against the indexed table %.3f\n",
           limit, limit, ins / base, limit, base / ins, ins / base_idx, uns / base, uns / base_idx);
}

/* Where a store pass's time went, in µs per appointment (per-batch steps spread over its rows). */
static void print_breakdown(const char *what, const pass_result *r, long n)
{
    double per = 1e6 / (double)n;
    double steps =
        r->t_begin + r->t_lookup + r->t_ocr + r->t_write + r->t_audit + r->t_fence + r->t_commit;
    printf("%s, µs per appointment: begin %.1f, entry_state_pms %.1f, OCR match %.1f, "
           "insert/update %.1f, audit record %.1f, lease check %.1f, commit %.1f, the rest "
           "(run sheets, content hash, name key, entry) %.1f\n",
           what, r->t_begin * per, r->t_lookup * per, r->t_ocr * per, r->t_write * per,
           r->t_audit * per, r->t_fence * per, r->t_commit * per, (r->wall_s - steps) * per);
}

/* The table of a backend's store passes and baselines, the ratios and where the time went;
 * false when a pass did not do what it should have (every row created, then none changed; an
 * audit record a batch). */
static bool report_upserts(bool postgres, long rows, long long audits, const pass_result *insert,
                           const pass_result *same, const pass_result *plain,
                           const pass_result *indexed)
{
    const char *limit = postgres ? "COPY" : ".import";
    char label[96];
    bool ok = true;
    print_header(postgres);
    print_row("store: first insert", rows, insert, postgres);
    print_row("store: re-upsert unchanged", rows, same, postgres);
    snprintf(label, sizeof label, "%s%s, no indexes", postgres ? "" : "sqlite3 ", limit);
    print_row(label, rows, plain, postgres);
    snprintf(label, sizeof label, "%s%s, the store's indexes", postgres ? "" : "sqlite3 ", limit);
    print_row(label, rows, indexed, postgres);
    print_ratios(limit, insert, same, plain, indexed);
    printf("\n");
    print_breakdown("First insert", insert, rows);
    print_breakdown("Re-upsert unchanged", same, rows);
    if (insert->created != rows || same->unchanged != rows)
        ok = failf("%ld created by the first pass and %ld unchanged in the second, of %ld",
                   insert->created, same->unchanged, rows);
    if (audits != (rows + BATCH - 1) / BATCH)
        ok = failf("%lld audit records, expected %ld", audits, (rows + BATCH - 1) / BATCH);
    return ok;
}

/* ---- a. SQLite ------------------------------------------------------------------------------ */

static bool bench_sqlite_upserts(const pms_keyring *ring)
{
    printf("\n## a. SQLite: appointment upserts vs the sqlite3 shell's .import (%d cores)\n\n",
           cores());
    printf("%d appointments (%d days x %d clinicians x %d), one connection, written as a sync "
           "writes them:\n"
           "batches of %d, one transaction each (run sheet, content hash, entry_state_pms, OCR "
           "match,\n"
           "entry_insert; the batch's sync.write audit record; the lease check; commit). A file "
           "in a\n"
           "temporary directory (WAL, synchronous=NORMAL: the store's settings). The baseline: "
           "the\n"
           "stored rows exported as CSV and loaded by `sqlite3 -batch FILE '.mode csv' '.import "
           "...'`\n"
           "(one transaction, the same WAL/synchronous settings; process start included) into a "
           "table of\n"
           "the same columns and declared types, without and with the store's indexes, in a new "
           "file: the\n"
           "best of %d runs (other work shares the machine; a short run is the most exposed).\n"
           "Bytes written: what the process wrote with write(2) (the WAL, and checkpoints into "
           "the file).\n\n",
           rows_n, rows_n / (CLINICIANS * PER_DAY), CLINICIANS, PER_DAY, BATCH, BASELINE_TRIES);
    fflush(stdout);
    char db_path[400], csv_path[400];
    snprintf(db_path, sizeof db_path, "%s/store.db", work_dir);
    snprintf(csv_path, sizeof csv_path, "%s/rows.csv", work_dir);
    writer w;
    pass_result insert, same, plain, indexed;
    buffer plain_ddl = {0}, indexed_ddl = {0};
    long rows = 0;
    size_t bytes = 0;
    bool ok = writer_setup(&w, db_path);
    w.ring = ring;
    ok = ok && run_pass(&w, rows_n, &insert) && run_pass(&w, rows_n, &same);
    writer_close(&w);
    ok = ok && sqlite_export(db_path, csv_path, &plain_ddl, &indexed_ddl, &rows, &bytes);
    if (ok && rows != rows_n)
        ok = failf("the store holds %ld appointments, not %d", rows, rows_n);
    ok = ok && shell_import("import-plain", plain_ddl.data, csv_path, rows, &plain) &&
         shell_import("import-indexed", indexed_ddl.data, csv_path, rows, &indexed);
    free(plain_ddl.data);
    free(indexed_ddl.data);
    if (!ok)
        return false;
    long long audits = sq_count(db_path, "SELECT COUNT(*) FROM audit_log");
    printf("CSV: %zu bytes, %.0f bytes a row. Audit records written: %lld (one per batch that "
           "changed something).\n\n",
           bytes, (double)bytes / (double)rows, audits);
    ok = report_upserts(false, rows, audits, &insert, &same, &plain, &indexed);
    fflush(stdout);
    return ok;
}

/* ---- b. PostgreSQL -------------------------------------------------------------------------- */

static PGconn *pg_connect(const char *db)
{
    char location[512];
    tu_pg_location(&cluster, db, location, sizeof location);
    PGconn *conn = PQconnectdb(location);
    if (PQstatus(conn) != CONNECTION_OK) {
        failf("cannot connect to %s: %s", db, PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static bool pg_ok(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType s = PQresultStatus(res);
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        failf("%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    return ok;
}

/* Planner statistics of the appointments, outside the clock: what autovacuum gives a table
 * within its first minute (autovacuum_naptime) once 50 rows are in. */
static bool analyze_appointments(const char *db)
{
    PGconn *conn = pg_connect(db);
    bool ok = conn && pg_ok(conn, "ANALYZE run_sheet_appointments");
    PQfinish(conn);
    return ok;
}

static long long pg_count(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    long long n = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                      ? atoll(PQgetvalue(res, 0, 0))
                      : -1;
    PQclear(res);
    return n;
}

/* The cluster's WAL insert position in bytes; -1 when it cannot be read. */
static long long wal_position(PGconn *conn)
{
    return pg_count(conn, "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint");
}

static bool pg_export(PGconn *conn, buffer *out)
{
    PGresult *res = PQexec(conn, "COPY run_sheet_appointments TO STDOUT");
    bool ok = PQresultStatus(res) == PGRES_COPY_OUT;
    PQclear(res);
    char *line;
    int n;
    while (ok && (n = PQgetCopyData(conn, &line, 0)) > 0) {
        ok = buf_add(out, line, (size_t)n);
        PQfreemem(line);
    }
    while ((res = PQgetResult(conn)) != NULL) {
        ok = ok && PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
    }
    return ok || failf("exporting the stored rows: %s", PQerrorMessage(conn));
}

/* COPY table FROM STDIN of data (text format) in one statement, sent in 256 KiB pieces, into the
 * emptied table after a checkpoint: the best of BASELINE_TRIES. */
static bool pg_copy_in(PGconn *conn, const char *table, const buffer *data, long rows,
                       pass_result *best)
{
    char sql[128], truncate[128], count[128];
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    snprintf(truncate, sizeof truncate, "TRUNCATE %s", table);
    snprintf(count, sizeof count, "SELECT COUNT(*) FROM %s", table);
    memset(best, 0, sizeof *best);
    for (int t = 0; t < BASELINE_TRIES && !interrupted; t++) {
        if (!pg_ok(conn, truncate) || !pg_ok(conn, "CHECKPOINT"))
            return false;
        pass_result r = {0};
        long long wal0 = wal_position(conn);
        double server0 = server_cpu_s(), t0 = mono_s(), c0 = self_cpu_s();
        PGresult *res = PQexec(conn, sql);
        bool ok = PQresultStatus(res) == PGRES_COPY_IN;
        PQclear(res);
        for (size_t at = 0; ok && at < data->len;) {
            size_t n = data->len - at < (1u << 18) ? data->len - at : (1u << 18);
            ok = PQputCopyData(conn, data->data + at, (int)n) == 1;
            at += n;
        }
        ok = PQputCopyEnd(conn, ok ? NULL : "bench failed") == 1 && ok;
        while ((res = PQgetResult(conn)) != NULL) {
            ok = ok && PQresultStatus(res) == PGRES_COMMAND_OK;
            PQclear(res);
        }
        r.wall_s = mono_s() - t0;
        r.cpu_s = self_cpu_s() - c0;
        double server1 = server_cpu_s();
        r.server_cpu_s = server0 >= 0 && server1 >= 0 ? server1 - server0 : -1;
        if (!ok)
            return failf("%s: %s", sql, PQerrorMessage(conn));
        long long wal1 = wal_position(conn);
        r.written = wal0 >= 0 && wal1 >= 0 ? wal1 - wal0 : -1;
        long long got = pg_count(conn, count);
        if (got != rows)
            return failf("COPY into %s stored %lld rows, not %ld", table, got, rows);
        r.created = rows;
        keep_best(best, &r);
    }
    return !interrupted;
}

static bool bench_pg_upserts(const pms_keyring *ring)
{
    printf("\n## b. PostgreSQL: appointment upserts vs COPY (%d cores)\n\n", cores());
    printf("The same %d appointments and write path as a., on a private cluster "
           "(tests/support/pg_proc.h:\n"
           "Unix socket, fsync=off, synchronous_commit=off, full_page_writes=off: commits cost "
           "no disk\n"
           "flush, for the store and for COPY alike). The store's handle is one libpq connection "
           "with\n"
           "prepared statements: three round trips a new appointment (state, OCR match, insert), "
           "one an\n"
           "unchanged one. The baseline: the stored rows exported with COPY TO STDOUT, then "
           "`COPY ... FROM\n"
           "STDIN` (text format, PQputCopyData, one statement) into `CREATE TABLE ... (LIKE "
           "run_sheet_appointments\n"
           "INCLUDING DEFAULTS)` (same columns and types, no indexes) and `(LIKE ... INCLUDING "
           "ALL)` (with\n"
           "its indexes and checks; neither has the foreign keys or the version trigger), each "
           "emptied and\n"
           "checkpointed first: the best of %d runs. ANALYZE of the appointments after the "
           "first batch%s.\n"
           "Server CPU: the postmaster and its children, from /proc; WAL bytes: "
           "pg_current_wal_insert_lsn()\n"
           "before and after.\n\n",
           rows_n, BASELINE_TRIES,
           analyze ? " (what autovacuum does within a minute)" : ": not run (--no-analyze)");
    fflush(stdout);
    char why[512], location[512];
    if (tu_pg_exec(&cluster, "postgres", "CREATE DATABASE bench_upserts", why, sizeof why) != 0)
        return failf("CREATE DATABASE: %s", why);
    tu_pg_location(&cluster, "bench_upserts", location, sizeof location);
    writer w;
    pass_result insert, same, plain, indexed;
    bool ok = writer_setup(&w, location);
    w.ring = ring;
    w.analyze_db = analyze ? "bench_upserts" : NULL;
    w.wal = ok ? pg_connect("bench_upserts") : NULL;
    ok = ok && w.wal && run_pass(&w, rows_n, &insert) && run_pass(&w, rows_n, &same);
    PQfinish(w.wal);
    writer_close(&w);
    if (!ok)
        return false;
    PGconn *conn = pg_connect("bench_upserts");
    buffer data = {0};
    ok = conn && pg_export(conn, &data);
    long long stored = ok ? pg_count(conn, "SELECT COUNT(*) FROM run_sheet_appointments") : -1;
    long long audits = ok ? pg_count(conn, "SELECT COUNT(*) FROM audit_log") : -1;
    if (ok && stored != rows_n)
        ok = failf("the store holds %lld appointments, not %d", stored, rows_n);
    ok = ok &&
         pg_ok(conn, "CREATE TABLE copy_plain (LIKE run_sheet_appointments INCLUDING DEFAULTS)") &&
         pg_ok(conn, "CREATE TABLE copy_indexed (LIKE run_sheet_appointments INCLUDING ALL)") &&
         pg_copy_in(conn, "copy_plain", &data, rows_n, &plain) &&
         pg_copy_in(conn, "copy_indexed", &data, rows_n, &indexed);
    PQfinish(conn);
    if (ok) {
        printf("COPY text: %zu bytes, %.0f bytes a row. Audit records written: %lld.\n\n", data.len,
               (double)data.len / rows_n, audits);
        ok = report_upserts(true, rows_n, audits, &insert, &same, &plain, &indexed);
    }
    free(data.data);
    fflush(stdout);
    /* Nothing of it left for autovacuum to work on while the leases are measured. */
    if (tu_pg_exec(&cluster, "postgres", "DROP DATABASE bench_upserts", why, sizeof why) != 0)
        ok = failf("DROP DATABASE: %s", why);
    return ok;
}

/* ---- c. lease claims ------------------------------------------------------------------------ */

typedef struct lease_run {
    const char *location;
    int connections;
    double seconds;
    atomic_int *holders;      /* per connection: workers holding it now */
    atomic_llong *last_token; /* per connection: the highest token seen */
    atomic_long *claims;      /* per connection: claims seen */
    atomic_int ready;         /* workers with their handle, waiting for go */
    atomic_bool go, stop;
} lease_run;

typedef struct lease_worker {
    lease_run *run;
    int index;
    pms_store *st;
    long claims, overlaps, token_regressions, lost, errors;
    double *latency_ms; /* one per claim statement, up to LATENCIES */
    size_t latencies;
    char error[256];
} lease_worker;

static int connection_index(const char *id)
{
    size_t len = strlen(id);
    return len >= 12 ? atoi(id + len - 12) : -1;
}

static void *lease_worker_main(void *arg)
{
    lease_worker *wk = arg;
    lease_run *run = wk->run;
    char name[32];
    snprintf(name, sizeof name, "bench-worker-%d", wk->index);
    atomic_fetch_add(&run->ready, 1);
    while (!atomic_load(&run->go))
        nap_us(100);
    while (!atomic_load(&run->stop)) {
        pms_lease got[CLAIM_MAX];
        int n = 0;
        pms_error err = {0};
        double t0 = mono_s();
        int rc = wk->st->ops->lease_claim(wk->st, name, pms_now(), LEASE_MS, CLAIM_MAX, false, got,
                                          &n, &err);
        if (wk->latencies < LATENCIES)
            wk->latency_ms[wk->latencies++] = (mono_s() - t0) * 1000.0;
        if (rc != PMS_OK) {
            if (wk->errors++ == 0)
                snprintf(wk->error, sizeof wk->error, "lease_claim: %s", err.message);
            continue;
        }
        for (int i = 0; i < n; i++) {
            int k = connection_index(got[i].connection_id);
            if (k < 0 || k >= run->connections) {
                wk->errors++;
                continue;
            }
            wk->claims++;
            atomic_fetch_add(&run->claims[k], 1);
            if (atomic_fetch_add(&run->holders[k], 1) != 0)
                wk->overlaps++;
            long long seen = atomic_load(&run->last_token[k]);
            if (got[i].token <= seen)
                wk->token_regressions++;
            while (seen < got[i].token &&
                   !atomic_compare_exchange_weak(&run->last_token[k], &seen, got[i].token))
                ;
            /* Not held by us any more from here on (before the release commits, so a claim by
             * another worker right after it is never counted as an overlap). */
            atomic_fetch_sub(&run->holders[k], 1);
            rc = wk->st->ops->lease_release(wk->st, got[i].connection_id, got[i].token, pms_now(),
                                            0, &err);
            if (rc == PMS_ERR_CONFLICT)
                wk->lost++;
            else if (rc != PMS_OK && wk->errors++ == 0)
                snprintf(wk->error, sizeof wk->error, "lease_release: %s", err.message);
        }
    }
    return NULL;
}

static bool vacuum_connections(const char *location)
{
    PGconn *conn = PQconnectdb(location);
    bool ok = PQstatus(conn) == CONNECTION_OK ? pg_ok(conn, "VACUUM ANALYZE pms_connections")
                                              : failf("cannot connect: %s", PQerrorMessage(conn));
    PQfinish(conn);
    return ok;
}

/* Every connection's lease_token, read with a connection of its own. */
static bool read_tokens(const char *location, bool postgres, long long *tokens, int n)
{
    static const char sql[] = "SELECT id, lease_token FROM pms_connections";
    for (int i = 0; i < n; i++)
        tokens[i] = -1;
    if (postgres) {
        PGconn *conn = PQconnectdb(location);
        PGresult *res = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, sql) : NULL;
        bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK;
        for (int r = 0; ok && r < PQntuples(res); r++) {
            int k = connection_index(PQgetvalue(res, r, 0));
            if (k >= 0 && k < n)
                tokens[k] = atoll(PQgetvalue(res, r, 1));
        }
        PQclear(res);
        PQfinish(conn);
        return ok || failf("cannot read the lease tokens");
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    bool ok = sqlite3_open_v2(location, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
              sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
              sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK;
    while (ok && sqlite3_step(stmt) == SQLITE_ROW) {
        int k = connection_index((const char *)sqlite3_column_text(stmt, 0));
        if (k >= 0 && k < n)
            tokens[k] = sqlite3_column_int64(stmt, 1);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return ok || failf("cannot read the lease tokens");
}

static bool make_connections(const char *location, int n)
{
    pms_store *st = NULL;
    pms_error err = {0};
    if (pms_store_open(location, true, &st, &err) != PMS_OK || st->ops->begin(st, &err) != PMS_OK) {
        pms_store_close(st);
        return failf("cannot open the store: %s", err.message);
    }
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        char id[64], name[64];
        snprintf(id, sizeof id, "c1000000-0000-4000-8000-%012d", i);
        snprintf(name, sizeof name, "Bench clinic %04d", i);
        ok = add_connection(st, id, name);
    }
    ok = ok && (st->ops->commit(st, &err) == PMS_OK || failf("commit: %s", err.message));
    if (!ok)
        st->ops->rollback(st);
    pms_store_close(st);
    return ok;
}

/* W workers for run->seconds; one table row. */
static bool lease_round(lease_run *run, bool postgres, int workers)
{
    int n = run->connections;
    /* Each round starts from a vacuumed table with statistics (what autovacuum keeps it at), not
     * from the dead rows of the round before. */
    if (postgres && !vacuum_connections(run->location))
        return false;
    long long *before = calloc((size_t)n, sizeof *before),
              *after = calloc((size_t)n, sizeof *after);
    lease_worker *wk = calloc((size_t)workers, sizeof *wk);
    pthread_t threads[MAX_WORKERS];
    int started = 0;
    bool ok = before && after && wk && read_tokens(run->location, postgres, before, n);
    for (int k = 0; ok && k < n; k++) {
        atomic_store(&run->holders[k], 0);
        atomic_store(&run->last_token[k], before[k]);
        atomic_store(&run->claims[k], 0);
    }
    atomic_store(&run->go, false);
    atomic_store(&run->stop, false);
    for (int i = 0; ok && i < workers; i++) {
        pms_error err = {0};
        wk[i].run = run;
        wk[i].index = i;
        wk[i].latency_ms = malloc(LATENCIES * sizeof *wk[i].latency_ms);
        if (wk[i].latency_ms == NULL ||
            pms_store_open(run->location, false, &wk[i].st, &err) != PMS_OK)
            ok = failf("cannot open a store handle: %s", err.message);
    }
    atomic_store(&run->ready, 0);
    for (int i = 0; ok && i < workers; i++) {
        if (pthread_create(&threads[i], NULL, lease_worker_main, &wk[i]) != 0)
            ok = failf("pthread_create failed");
        else
            started++;
    }
    double t0 = 0, wall = 0, server0 = -1, cpu0 = 0;
    if (ok) {
        while (atomic_load(&run->ready) < started)
            nap_us(100);
        server0 = server_cpu_s();
        cpu0 = self_cpu_s();
        t0 = mono_s();
        atomic_store(&run->go, true);
        while (mono_s() - t0 < run->seconds && !interrupted)
            nap_us(10000);
    }
    atomic_store(&run->stop, true);
    atomic_store(&run->go, true);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    if (ok)
        wall = mono_s() - t0;
    double cpu = self_cpu_s() - cpu0, server1 = server_cpu_s();
    long claims = 0, overlaps = 0, regressions = 0, lost = 0, errors = 0;
    size_t lat_n = 0;
    double *lat = NULL;
    for (int i = 0; i < workers && wk; i++) {
        claims += wk[i].claims;
        overlaps += wk[i].overlaps;
        regressions += wk[i].token_regressions;
        lost += wk[i].lost;
        errors += wk[i].errors;
        lat_n += wk[i].latencies;
        if (wk[i].errors)
            failf("worker %d: %ld errors, the first: %s", i, wk[i].errors, wk[i].error);
    }
    if (ok && (lat = malloc((lat_n ? lat_n : 1) * sizeof *lat)) != NULL) {
        size_t at = 0;
        for (int i = 0; i < workers; i++) {
            memcpy(lat + at, wk[i].latency_ms, wk[i].latencies * sizeof *lat);
            at += wk[i].latencies;
        }
        qsort(lat, lat_n, sizeof *lat, cmp_double);
    }
    for (int i = 0; i < workers && wk; i++) {
        pms_store_close(wk[i].st);
        free(wk[i].latency_ms);
    }
    /* Every claim moved its connection's token on by one, and nothing else did. */
    long mismatched = 0, advanced = 0;
    if (ok && read_tokens(run->location, postgres, after, n)) {
        for (int k = 0; k < n; k++) {
            advanced += after[k] - before[k];
            mismatched += after[k] - before[k] != atomic_load(&run->claims[k]);
        }
    } else {
        ok = false;
    }
    if (ok) {
        double server = server0 >= 0 && server1 >= 0 ? server1 - server0 : -1;
        printf("| %d | %.2f | %ld | %.0f | %.3f | %.3f | %.3f | %.2f |", workers, wall, claims,
               (double)claims / wall, pct(lat, lat_n, 0.5), pct(lat, lat_n, 0.99),
               pct(lat, lat_n, 1.0), cpu / wall);
        if (postgres)
            printf(" %.2f |", server / wall);
        printf(" %ld | %ld | %ld | %ld | %ld |\n", overlaps, regressions, lost, mismatched, errors);
        if (claims != advanced)
            printf("(tokens advanced %ld, claims counted %ld)\n", advanced, claims);
        if (overlaps || regressions || lost || mismatched || claims != advanced)
            ok = failf("%d workers: a connection was held twice, or a token misbehaved", workers);
        if (errors)
            ok = false;
    }
    fflush(stdout);
    free(lat);
    free(wk);
    free(before);
    free(after);
    return ok && !interrupted;
}

static bool bench_leases(const char *title, const char *location, bool postgres)
{
    int n = quick ? LEASE_CONNECTIONS_QUICK : LEASE_CONNECTIONS;
    double seconds = quick ? LEASE_SECONDS_QUICK : LEASE_SECONDS;
    printf("\n### %s\n\n", title);
    fflush(stdout);
    if (!make_connections(location, n))
        return false;
    lease_run run = {.location = location, .connections = n, .seconds = seconds};
    run.holders = calloc((size_t)n, sizeof *run.holders);
    run.last_token = calloc((size_t)n, sizeof *run.last_token);
    run.claims = calloc((size_t)n, sizeof *run.claims);
    bool ok = run.holders && run.last_token && run.claims;
    if (ok) {
        printf("| workers | s | claims | claims/s | claim p50 ms | p99 ms | max ms | bench CPU "
               "(cores) |%s held twice | token not newer | release lost | token ≠ claims | "
               "errors |\n",
               postgres ? " server CPU (cores) |" : "");
        printf("|---|---|---|---|---|---|---|---|%s---|---|---|---|---|\n", postgres ? "---|" : "");
    }
    static const int rounds[] = {1, 3, 8};
    for (size_t i = 0; ok && i < sizeof rounds / sizeof rounds[0]; i++)
        ok = lease_round(&run, postgres, rounds[i]);
    free(run.holders);
    free(run.last_token);
    free(run.claims);
    return ok;
}

static bool bench_all_leases(void)
{
    int n = quick ? LEASE_CONNECTIONS_QUICK : LEASE_CONNECTIONS;
    printf("\n## c. Lease claims with 1, 3 and 8 workers (%d cores)\n\n", cores());
    printf("%d connections, all due. Each worker is a thread with its own store handle (one "
           "server\n"
           "connection on PostgreSQL); for %.0f s it claims (lease_claim, max %d, lease %ld s: "
           "the scheduler's\n"
           "claim when one of its workers is free) and at once releases (lease_release, due "
           "again now) as\n"
           "fast as it can. Checked: no connection held by two workers at once (a per-connection "
           "count of\n"
           "holders), every claim's fencing token newer than the last one seen for the "
           "connection, no\n"
           "release refused, and each connection's lease_token moved on by exactly its claims. "
           "Latency: one\n"
           "lease_claim call (its own transaction).\n",
           n, quick ? LEASE_SECONDS_QUICK : LEASE_SECONDS, CLAIM_MAX, LEASE_MS / 1000);
    char why[512], location[512];
    bool ok =
        tu_pg_exec(&cluster, "postgres", "CREATE DATABASE bench_leases", why, sizeof why) == 0 ||
        failf("CREATE DATABASE: %s", why);
    tu_pg_location(&cluster, "bench_leases", location, sizeof location);
    ok = ok && bench_leases("PostgreSQL (FOR UPDATE SKIP LOCKED)", location, true);
    snprintf(location, sizeof location, "%s/leases.db", work_dir);
    ok = ok && !interrupted &&
         bench_leases("SQLite (one writer at a time: BEGIN IMMEDIATE, busy timeout)", location,
                      false);
    return ok;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--no-analyze") == 0) {
            analyze = false;
        } else {
            fprintf(stderr, "usage: bench_store [--quick] [--no-analyze]\n");
            return 2;
        }
    }
    rows_n = (quick ? DAYS_QUICK : DAYS) * CLINICIANS * PER_DAY;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setenv("PMSYNC_LOG_LEVEL", "warn", 0);

    pms_error err = {0};
    if (pms_tz_get(TIMEZONE, &zone, &err) != PMS_OK) {
        fprintf(stderr, "bench_store: %s\n", err.message);
        return 1;
    }
    unsigned char key[PMS_KEY_BYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 37 + 11);
    pms_keyring *ring = NULL;
    if (pms_keyring_from_raw(key, &ring, &err) != PMS_OK) {
        fprintf(stderr, "bench_store: %s\n", err.message);
        return 1;
    }
    snprintf(work_dir, sizeof work_dir, "/tmp/pmsync-bench-store-XXXXXX");
    if (mkdtemp(work_dir) == NULL) {
        work_dir[0] = '\0';
        pms_keyring_free(ring);
        fprintf(stderr, "bench_store: cannot create a temporary directory\n");
        return 1;
    }
    atexit(cleanup);

    printf("# Store benchmark (%d cores)%s\n", cores(), quick ? " --quick" : "");
    double started = mono_s();
    bool ok = bench_sqlite_upserts(ring);
    char why[512];
    if (!interrupted) {
        if (tu_pg_start(&cluster, why, sizeof why) == 0)
            cluster_up = true;
        else
            ok = failf("the PostgreSQL cluster did not start: %s", why);
    }
    if (cluster_up && !interrupted)
        ok = bench_pg_upserts(ring) && ok;
    if (cluster_up && !interrupted)
        ok = bench_all_leases() && ok;
    printf("\nbench_store: %.1f s in all\n", mono_s() - started);
    fflush(stdout);
    cleanup();
    pms_keyring_free(ring);
    pms_tz_cleanup();
    if (interrupted)
        fprintf(stderr, "bench_store: interrupted\n");
    return ok && !interrupted ? 0 : 1;
}
