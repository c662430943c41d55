#include "stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENDPOINTS 64
#define MAX_STATUS    600

typedef struct log_entry {
    uint64_t seq; /* 0 = unused */
    pms_instant started_at, finished_at;
    const char *pms;      /* static */
    const char *endpoint; /* static */
    char method[8];
    char *path;
    char tenant_id[48];
    char practitioner_id[48];
    char user_agent[128];
    int status;
} log_entry;

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t total;
static const char *endpoint_names[MAX_ENDPOINTS];
static uint64_t endpoint_counts[MAX_ENDPOINTS];
static size_t endpoint_count;
static uint64_t status_counts[MAX_STATUS];
static uint64_t fault_counts[SBX_STAT_FAULT_COUNT];
static log_entry *ring;
static size_t ring_capacity;
static uint64_t last_seq;

int sbx_stats_init(size_t log_capacity, pms_error *err)
{
    ring = calloc(log_capacity, sizeof(*ring));
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "cannot allocate the request log");
    ring_capacity = log_capacity;
    return PMS_OK;
}

void sbx_stats_cleanup(void)
{
    pthread_mutex_lock(&stats_lock);
    for (size_t i = 0; i < ring_capacity; i++)
        free(ring[i].path);
    free(ring);
    ring = NULL;
    ring_capacity = 0;
    pthread_mutex_unlock(&stats_lock);
}

static void count_endpoint(const char *endpoint)
{
    for (size_t i = 0; i < endpoint_count; i++) {
        if (strcmp(endpoint_names[i], endpoint) == 0) {
            endpoint_counts[i]++;
            return;
        }
    }
    if (endpoint_count < MAX_ENDPOINTS) {
        endpoint_names[endpoint_count] = endpoint;
        endpoint_counts[endpoint_count++] = 1;
    }
}

void sbx_stats_record(const sbx_route_info *info, const char *method, const char *path,
                      const char *user_agent, int status, pms_instant started_at,
                      pms_instant finished_at)
{
    const char *endpoint = info->endpoint != NULL ? info->endpoint : "unknown";
    char *path_copy = strdup(path);
    pthread_mutex_lock(&stats_lock);
    total++;
    count_endpoint(endpoint);
    if (status > 0 && status < MAX_STATUS)
        status_counts[status]++;
    if (ring_capacity > 0) {
        log_entry *e = &ring[last_seq % ring_capacity];
        free(e->path);
        e->seq = ++last_seq;
        e->started_at = started_at;
        e->finished_at = finished_at;
        e->pms = info->pms != NULL ? info->pms : "";
        e->endpoint = endpoint;
        snprintf(e->method, sizeof(e->method), "%s", method);
        e->path = path_copy;
        path_copy = NULL;
        memcpy(e->tenant_id, info->tenant_id, sizeof(e->tenant_id));
        memcpy(e->practitioner_id, info->practitioner_id, sizeof(e->practitioner_id));
        snprintf(e->user_agent, sizeof(e->user_agent), "%s", user_agent != NULL ? user_agent : "");
        e->status = status;
    }
    pthread_mutex_unlock(&stats_lock);
    free(path_copy);
}

void sbx_stats_fault(sbx_stat_fault kind, unsigned count)
{
    if (kind >= SBX_STAT_FAULT_COUNT || count == 0)
        return;
    pthread_mutex_lock(&stats_lock);
    fault_counts[kind] += count;
    pthread_mutex_unlock(&stats_lock);
}

json_t *sbx_stats_json(void)
{
    static const char *const fault_names[SBX_STAT_FAULT_COUNT] = {"429", "5xx", "drop", "truncate",
                                                                  "malformed"};
    json_t *by_endpoint = json_object();
    json_t *by_status = json_object();
    json_t *faults = json_object();
    pthread_mutex_lock(&stats_lock);
    json_int_t total_now = (json_int_t)total;
    for (size_t i = 0; i < endpoint_count; i++)
        json_object_set_new(by_endpoint, endpoint_names[i],
                            json_integer((json_int_t)endpoint_counts[i]));
    for (int s = 0; s < MAX_STATUS; s++) {
        if (status_counts[s] == 0)
            continue;
        char key[8];
        snprintf(key, sizeof(key), "%d", s);
        json_object_set_new(by_status, key, json_integer((json_int_t)status_counts[s]));
    }
    for (int f = 0; f < SBX_STAT_FAULT_COUNT; f++)
        json_object_set_new(faults, fault_names[f], json_integer((json_int_t)fault_counts[f]));
    pthread_mutex_unlock(&stats_lock);
    return json_pack("{s:I, s:o, s:o, s:o}", "total", total_now, "byEndpoint", by_endpoint,
                     "byStatus", by_status, "faults", faults);
}

void sbx_stats_reset(void)
{
    pthread_mutex_lock(&stats_lock);
    total = 0;
    endpoint_count = 0;
    memset(endpoint_counts, 0, sizeof(endpoint_counts));
    memset(status_counts, 0, sizeof(status_counts));
    memset(fault_counts, 0, sizeof(fault_counts));
    pthread_mutex_unlock(&stats_lock);
}

static json_t *entry_json(const log_entry *e)
{
    return json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s?, s:s?, s:i, s:s}", "seq",
                     (json_int_t)e->seq, "startedAt", (json_int_t)e->started_at, "finishedAt",
                     (json_int_t)e->finished_at, "pms", e->pms, "endpoint", e->endpoint, "method",
                     e->method, "path", e->path != NULL ? e->path : "", "tenantId",
                     e->tenant_id[0] != '\0' ? e->tenant_id : NULL, "practitionerId",
                     e->practitioner_id[0] != '\0' ? e->practitioner_id : NULL, "status", e->status,
                     "userAgent", e->user_agent);
}

json_t *sbx_requests_json(uint64_t since, size_t limit)
{
    json_t *list = json_array();
    pthread_mutex_lock(&stats_lock);
    uint64_t oldest = last_seq >= ring_capacity ? last_seq - ring_capacity + 1 : 1;
    uint64_t first = since + 1 > oldest ? since + 1 : oldest;
    for (uint64_t seq = first; seq <= last_seq && json_array_size(list) < limit; seq++) {
        const log_entry *e = &ring[(seq - 1) % ring_capacity];
        if (e->seq == seq)
            json_array_append_new(list, entry_json(e));
    }
    json_int_t last = (json_int_t)last_seq;
    json_int_t oldest_out = last_seq == 0 ? 0 : (json_int_t)oldest;
    json_int_t capacity = (json_int_t)ring_capacity;
    pthread_mutex_unlock(&stats_lock);
    return json_pack("{s:o, s:I, s:I, s:I}", "requests", list, "oldestSeq", oldest_out, "lastSeq",
                     last, "capacity", capacity);
}
