/* The control API under /_sandbox: info, stats, the request log, fault settings, dataset reset,
 * and each simulator's own controls under /_sandbox/<pms>/. No auth, never faulted, never
 * counted in the PMS statistics. */
#ifndef SBX_CONTROL_H
#define SBX_CONTROL_H

#include "config.h"
#include "http.h"

/* Remembers the dataset configuration that POST /_sandbox/reset starts from. */
void sbx_control_init(const sbx_config *cfg);
/* rest: the path after "/_sandbox" ("/info", "/gentu/truth", ...). */
void sbx_control_handle(const sbx_request *req, const char *rest, sbx_response *resp);

#endif
