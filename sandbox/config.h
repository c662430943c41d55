/* pms-sandbox settings: what the command line sets (options.c) and the control API may change.
 *
 * Plain values, copied by the modules that own them at start-up.
 */
#ifndef SBX_CONFIG_H
#define SBX_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "pmsync/time.h"

/* The generated dataset: deterministic from seed and today. */
typedef struct sbx_dataset_config {
    uint64_t seed;
    bool today_set;  /* false: each practice uses its own local today */
    pms_date today;  /* when today_set */
    int days_before; /* days of appointments before today */
    int days_after;  /* days of appointments after today */
    int practices;
    int practitioners;        /* per practice */
    int appointments_per_day; /* per practitioner per day */
    int patients;             /* per practice */
} sbx_dataset_config;

/* Fault injection and server-side limits, applied to PMS API requests only. */
typedef struct sbx_fault_config {
    int latency_ms;        /* added to every PMS API response */
    double rate_429;       /* probability of an injected 429 */
    int retry_after;       /* seconds in Retry-After on injected 429s; 0 = no header */
    bool retry_after_date; /* send Retry-After as an HTTP-date instead of seconds */
    double rate_5xx;       /* probability of an injected 500/502/503/504 */
    double rate_drop;      /* probability of closing the connection without a response */
    double rate_truncate;  /* probability of cutting a 200 body short */
    double rate_malformed; /* fraction of appointment ids served as malformed records */
    int token_lifetime;    /* seconds; 0 = each simulator's default */
    int page_size;         /* server-side cap on page sizes; 0 = none */
    uint64_t fault_seed;   /* PRNG seed of every random fault decision */
    int burst_429;         /* the next N PMS API requests get 429 */
    bool fault_token;      /* faults also apply to token endpoints */
} sbx_fault_config;

/* Gentu credentials and the behaviours the notes mark as guesses (docs/sandbox.md). */
typedef enum sbx_gentu_error_style {
    SBX_GENTU_ERRORS_OAUTH = 0, /* {"error":"invalid_client","error_description":"..."} */
    SBX_GENTU_ERRORS_APIGEE,    /* {"ErrorCode":"invalid_client","Error":"..."} */
} sbx_gentu_error_style;

typedef struct sbx_gentu_config {
    char client_id[128];
    char client_secret[128];
    char app_id[128];
    bool unprovisioned_app; /* every tenant call answers the Apigee 500 */
    bool todate_inclusive;  /* startAt <= toDate instead of < toDate */
    bool empty_last_page;   /* a full last page still carries a next cursor */
    bool body_credentials;  /* token endpoint also accepts client_id/secret in the body */
    bool tenants_list_all;  /* GET /tenants lists unpaired tenants as "disabled" */
    int unpaired_status;    /* 403 or 404 for calls to a tenant not paired with the app */
    int wrong_app_status;   /* 403 or 404 for pairing under another appId */
    int max_window_days;    /* widest fromDate..toDate window; 0 = unlimited */
    bool cursor_bound;      /* a cursor only works with the query that made it */
    sbx_gentu_error_style token_errors;
    bool cancel_by_status; /* PATCH cancel body {"status":"cancelled"}, not {"action":"cancel"} */
} sbx_gentu_config;

/* Medirecords behaviours the notes mark as guesses or unknown (docs/sandbox.md). */
typedef enum sbx_mr_interval_shape {
    SBX_MR_INTERVALS_ARRAY = 0, /* [{"code":2,"value":"5 min"}, ...] */
    SBX_MR_INTERVALS_DATA,      /* {"data":[...the same...]} */
    SBX_MR_INTERVALS_OBJECTS,   /* [{"id":2,"minutes":5,"description":"5 minutes"}, ...] */
} sbx_mr_interval_shape;

typedef struct sbx_medirecords_config {
    bool raw_token;           /* also accept the token without "Bearer " */
    bool oauth;               /* serve POST /oauth/token (client credentials) */
    bool range_end_exclusive; /* scheduleTime < appointmentDateRangeEnd instead of <= */
    bool empty_204;           /* an empty page is HTTP 204 without a body */
    sbx_mr_interval_shape interval_shape;
    bool types_page;         /* appointment-types in the page envelope instead of {"data":[...]} */
    bool providers;          /* serve /v1/practices/{pid}/providers[/{id}] */
    char client_id[128];     /* OAuth variant */
    char client_secret[128]; /* OAuth variant */
} sbx_medirecords_config;

/* Halaxy behaviours the notes mark as guesses or unknown (docs/sandbox.md). */
typedef enum sbx_hx_reference_style {
    SBX_HX_REFS_ABSOLUTE = 0, /* http://127.0.0.1:PORT/halaxy/main/Patient/123 */
    SBX_HX_REFS_RELATIVE,     /* /main/Patient/123 */
    SBX_HX_REFS_BARE,         /* Patient/123 */
    SBX_HX_REFS_MIXED,        /* each reference one of the three */
} sbx_hx_reference_style;

typedef struct sbx_halaxy_config {
    int expires_in;         /* what the token answer claims; the real lifetime is separate */
    int expired_status;     /* 401, 403 or 400 for an expired token */
    bool no_range_prefixes; /* date=ge/le/gt/lt... answer 400 not-supported */
    sbx_hx_reference_style reference_style;
    bool location_type; /* supportingInformation carries a location-type entry */
} sbx_halaxy_config;

typedef struct sbx_config {
    int port; /* 0 = ephemeral */
    const char *port_file;
    int threads;     /* MHD thread pool size */
    int request_log; /* ring buffer capacity */
    int body_limit;  /* bytes; bigger request bodies get 413 */
    sbx_dataset_config dataset;
    sbx_fault_config faults;
    sbx_gentu_config gentu;
    sbx_medirecords_config medirecords;
    sbx_halaxy_config halaxy;
} sbx_config;

#endif
