/* The simulated PMSs: one ops table per vendor API, registered in pms.c.
 *
 * A simulator named "gentu" serves its vendor API under /gentu/... and its test and demo
 * controls under /_sandbox/gentu/...; server.c applies latency and faults around `handle`,
 * counts its traffic and never faults or counts control requests. Every function must be
 * thread-safe: libmicrohttpd calls them from a pool of threads.
 */
#ifndef SBX_PMS_H
#define SBX_PMS_H

#include <jansson.h>

#include "config.h"
#include "http.h"
#include "pmsync/error.h"

typedef struct sbx_pms {
    const char *name; /* URL prefix without the slash: "gentu" */
    /* Builds the dataset and state from the configuration. */
    int (*start)(const sbx_config *cfg, pms_error *err);
    /* Frees everything; no request runs any more. */
    void (*stop)(void);
    /* Regenerates the dataset from the seed and clears pairings, tokens and cursors. A NULL
     * dataset means the one in use. */
    int (*reset)(const sbx_dataset_config *dataset, pms_error *err);
    /* Names the endpoint of a vendor API request (for stats, the log and fault rules). */
    void (*route)(const sbx_request *req, sbx_route_info *info);
    /* Answers a vendor API request. */
    void (*handle)(const sbx_request *req, const sbx_route_info *info, sbx_response *resp);
    /* The answer to an injected 429 or 5xx in this vendor's error style. */
    void (*fault_response)(int status, const sbx_route_info *info, sbx_response *resp);
    /* This simulator's entry in GET /_sandbox/info; caller owns it. */
    json_t *(*info)(const sbx_request *req);
    /* Answers /_sandbox/<name>/...; `rest` is the path after that prefix ("truth", ...). */
    void (*control)(const sbx_request *req, const char *rest, sbx_response *resp);
} sbx_pms;

/* NULL-terminated list of the simulators. */
extern const sbx_pms *const sbx_pms_list[];

/* The simulator whose URL prefix starts the path ("/gentu/v1/..."); *rest gets the remainder. */
const sbx_pms *sbx_pms_for_path(const char *path, const char **rest);
const sbx_pms *sbx_pms_by_name(const char *name);

#endif
