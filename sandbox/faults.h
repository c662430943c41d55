/* Fault injection for PMS API requests: latency, 429 (random or a burst), 5xx, dropped
 * connections, truncated bodies and malformed records, plus the server-side token lifetime
 * and page-size cap. Settings change at run time through PUT /_sandbox/faults.
 *
 * Thread-safe: one mutex guards the settings and the fault PRNG (seeded by fault_seed, so a
 * run with the same requests in the same order sees the same faults). Malformed records do not
 * use the PRNG: they are a pure function of (fault_seed, record id), so re-syncs see the same.
 */
#ifndef SBX_FAULTS_H
#define SBX_FAULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "pmsync/error.h"

typedef enum sbx_fault_kind {
    SBX_FAULT_NONE = 0,
    SBX_FAULT_429,
    SBX_FAULT_5XX,
    SBX_FAULT_DROP,
} sbx_fault_kind;

typedef struct sbx_fault_decision {
    sbx_fault_kind kind;
    int status;            /* 429 or 500/502/503/504 */
    int retry_after;       /* for 429: seconds, 0 = no header */
    bool retry_after_date; /* send the HTTP-date form */
    int latency_ms;        /* delay before answering (applies with or without a fault) */
} sbx_fault_decision;

/* The start-up settings; also what POST /_sandbox/faults/reset returns to. */
void sbx_faults_init(const sbx_fault_config *startup);
void sbx_faults_get(sbx_fault_config *out);
/* Partial update from a JSON object (keys as in sbx_faults_json); nothing changes on error. */
int sbx_faults_update(const json_t *patch, pms_error *err);
void sbx_faults_reset(void);
/* {"latency_ms":..,"fault_429":..,"retry_after":..,...}; caller owns it. */
json_t *sbx_faults_json(void);

/* The fault (if any) for a PMS API request, decided before it is handled. */
void sbx_faults_decide(bool is_token, sbx_fault_decision *out);
/* Whether a successful body of body_len bytes gets cut, and where (0 < *cut < body_len). */
bool sbx_faults_truncate(bool is_token, size_t body_len, size_t *cut);
/* Whether the record with this id is served malformed, and which way (a small number). */
bool sbx_faults_malformed(const char *record_id, unsigned *variant);
/* Same question with the rate and seed given (no lock; for ground truth reports). */
bool sbx_faults_malformed_with(double rate, uint64_t seed, const char *record_id,
                               unsigned *variant);
/* Lifetime of new tokens in seconds: token_lifetime when set, else the simulator's default. */
int sbx_faults_token_lifetime(int pms_default);
int sbx_faults_page_size(void);

#endif
