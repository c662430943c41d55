/* What every simulator's ground truth (/_sandbox/<pms>/truth) has in common: the normalised
 * fields that let tests treat all PMSs alike, and the from/to query. */
#ifndef SBX_TRUTH_H
#define SBX_TRUTH_H

#include <jansson.h>
#include <stdbool.h>

#include "http.h"
#include "pmsync/time.h"

/* The unified appointment status of pms-api-notes §8.1. */
typedef enum sbx_unified_status {
    SBX_UNIFIED_NULL = -1, /* the PMS gave no status (served as null) */
    SBX_UNIFIED_BOOKED = 0,
    SBX_UNIFIED_CONFIRMED,
    SBX_UNIFIED_ARRIVED,
    SBX_UNIFIED_IN_PROGRESS,
    SBX_UNIFIED_COMPLETED,
    SBX_UNIFIED_CANCELLED,
    SBX_UNIFIED_NO_SHOW,
} sbx_unified_status;

/* "booked", ...; NULL for SBX_UNIFIED_NULL. */
const char *sbx_unified_status_name(sbx_unified_status status);

/* Sets "_id", "_status", "_startUtc" ("...Z"), "_telehealth" and "_kind" ("appointment", or
 * "meeting" when the appointment has no patient). */
void sbx_truth_set_common(json_t *obj, const char *id, sbx_unified_status status, pms_instant start,
                          bool telehealth, bool meeting);

/* The from/to query of a truth request: YYYY-MM-DD, each defaulting to the given bound. False
 * (after answering 400) when either is malformed. */
bool sbx_truth_dates(const sbx_request *req, pms_date *from, pms_date *to, sbx_response *resp);

#endif
