/* Failed sign-ins per client address: after max_failures failures within window_ms an address
 * must wait until the oldest of them leaves the window. In memory only, bounded (the table holds
 * at most `capacity` addresses: when it is full, an address with no failure in the window, else
 * the one whose last failure is oldest, makes room). Thread-safe. */
#ifndef PMSD_THROTTLE_H
#define PMSD_THROTTLE_H

#include <stddef.h>

#include "pmsync/error.h"
#include "pmsync/time.h"

#define PMSD_THROTTLE_MAX_FAILURES 16 /* the largest max_failures */

typedef struct pmsd_throttle pmsd_throttle;

int pmsd_throttle_new(size_t capacity, int max_failures, pms_instant window_ms, pmsd_throttle **out,
                      pms_error *err);
void pmsd_throttle_free(pmsd_throttle *t);

/* 0 when addr may try now; otherwise how many seconds (at least 1) until it may. */
long pmsd_throttle_wait(pmsd_throttle *t, const char *addr, pms_instant now);
/* Counts a failed sign-in of addr. */
void pmsd_throttle_failed(pmsd_throttle *t, const char *addr, pms_instant now);
/* Addresses the table holds now. */
size_t pmsd_throttle_size(pmsd_throttle *t);

#endif
