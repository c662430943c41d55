/* Latency without blocking a worker: a connection is suspended in the access handler and a
 * timer thread resumes it when its delay is over, so a slow simulated PMS still serves many
 * clients at once with a small thread pool.
 *
 * Thread-safe. sbx_delay_stop resumes every waiting connection; call it before
 * MHD_stop_daemon (libmicrohttpd must not be stopped with suspended connections).
 */
#ifndef SBX_DELAY_H
#define SBX_DELAY_H

#include <microhttpd.h>
#include <stdbool.h>

#include "pmsync/error.h"

int sbx_delay_start(pms_error *err);
/* Suspends conn and resumes it after delay_ms. Call only from the access handler. Returns
 * false (and suspends nothing) when the timer is stopping or out of memory: answer now. */
bool sbx_delay_suspend(struct MHD_Connection *conn, int delay_ms);
void sbx_delay_stop(void);

#endif
