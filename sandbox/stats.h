/* Counters of PMS API traffic (GET /_sandbox/stats) and the request log, a ring buffer of the
 * most recent PMS API requests (GET /_sandbox/requests). Control API requests are never counted.
 *
 * Thread-safe: one mutex guards counters and log.
 */
#ifndef SBX_STATS_H
#define SBX_STATS_H

#include <jansson.h>
#include <stdint.h>

#include "http.h"
#include "pmsync/error.h"
#include "pmsync/time.h"

typedef enum sbx_stat_fault {
    SBX_STAT_FAULT_429 = 0,
    SBX_STAT_FAULT_5XX,
    SBX_STAT_FAULT_DROP,
    SBX_STAT_FAULT_TRUNCATE,
    SBX_STAT_FAULT_MALFORMED,
    SBX_STAT_FAULT_COUNT,
} sbx_stat_fault;

int sbx_stats_init(size_t log_capacity, pms_error *err);
void sbx_stats_cleanup(void);

/* One finished PMS API request; status 0 when no response was sent (dropped or aborted). */
void sbx_stats_record(const sbx_route_info *info, const char *method, const char *path,
                      const char *user_agent, int status, pms_instant started_at,
                      pms_instant finished_at);
void sbx_stats_fault(sbx_stat_fault kind, unsigned count);

/* {"total","byEndpoint","byStatus","faults"}; caller owns it. */
json_t *sbx_stats_json(void);
/* Zeroes the counters (the request log and its sequence numbers stay). */
void sbx_stats_reset(void);
/* {"requests":[...entries with seq > since, oldest first, at most limit],
 *  "oldestSeq","lastSeq","capacity"}; caller owns it. */
json_t *sbx_requests_json(uint64_t since, size_t limit);

#endif
