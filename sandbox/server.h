/* The HTTP server: libmicrohttpd on 127.0.0.1 with an internal thread pool, request-body
 * accumulation with a hard cap (413 beyond it), routing to the simulators and the control API,
 * latency and fault injection around simulator handlers, and traffic accounting.
 */
#ifndef SBX_SERVER_H
#define SBX_SERVER_H

#include "config.h"
#include "pmsync/error.h"

/* Starts listening; the simulators must have been started. */
int sbx_server_start(const sbx_config *cfg, pms_error *err);
/* The bound port and "http://127.0.0.1:PORT" (valid after start). */
int sbx_server_port(void);
const char *sbx_server_base_url(void);
/* Stops accepting, answers delayed requests at once, waits up to 2 s for requests in flight,
 * then stops the daemon. */
void sbx_server_stop(void);

#endif
