#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_PORT = 256,
    OPT_PORT_FILE,
    OPT_THREADS,
    OPT_REQUEST_LOG,
    OPT_BODY_LIMIT,
    OPT_SEED,
    OPT_TODAY,
    OPT_DAYS_BEFORE,
    OPT_DAYS_AFTER,
    OPT_PRACTICES,
    OPT_PRACTITIONERS,
    OPT_APPTS_PER_DAY,
    OPT_PATIENTS,
    OPT_LARGE,
    OPT_CLIENT_ID,
    OPT_CLIENT_SECRET,
    OPT_APP_ID,
    OPT_LATENCY,
    OPT_FAULT_429,
    OPT_RETRY_AFTER,
    OPT_RETRY_AFTER_DATE,
    OPT_FAULT_5XX,
    OPT_FAULT_DROP,
    OPT_FAULT_TRUNCATE,
    OPT_FAULT_MALFORMED,
    OPT_TOKEN_LIFETIME,
    OPT_PAGE_SIZE,
    OPT_FAULT_SEED,
    OPT_FAULT_BURST,
    OPT_FAULT_TOKEN,
    OPT_UNPROVISIONED,
    OPT_TODATE_INCLUSIVE,
    OPT_EMPTY_LAST_PAGE,
    OPT_BODY_CREDENTIALS,
    OPT_TENANTS_LIST,
    OPT_UNPAIRED_STATUS,
    OPT_WRONG_APP_STATUS,
    OPT_MAX_WINDOW,
    OPT_CURSOR_UNBOUND,
    OPT_TOKEN_ERRORS,
    OPT_CANCEL_BODY,
    OPT_MR_RAW_TOKEN,
    OPT_MR_OAUTH,
    OPT_MR_RANGE_END_EXCLUSIVE,
    OPT_MR_EMPTY_204,
    OPT_MR_INTERVAL_SHAPE,
    OPT_MR_TYPES_ENVELOPE,
    OPT_MR_PROVIDERS,
    OPT_HX_EXPIRES_IN,
    OPT_HX_EXPIRED_STATUS,
    OPT_HX_NO_RANGE_PREFIXES,
    OPT_HX_REFERENCE_STYLE,
    OPT_HX_LOCATION_TYPE,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"request-log", required_argument, NULL, OPT_REQUEST_LOG},
    {"body-limit", required_argument, NULL, OPT_BODY_LIMIT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"today", required_argument, NULL, OPT_TODAY},
    {"days-before", required_argument, NULL, OPT_DAYS_BEFORE},
    {"days-after", required_argument, NULL, OPT_DAYS_AFTER},
    {"practices", required_argument, NULL, OPT_PRACTICES},
    {"practitioners", required_argument, NULL, OPT_PRACTITIONERS},
    {"appointments-per-day", required_argument, NULL, OPT_APPTS_PER_DAY},
    {"patients", required_argument, NULL, OPT_PATIENTS},
    {"large", no_argument, NULL, OPT_LARGE},
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"client-secret", required_argument, NULL, OPT_CLIENT_SECRET},
    {"app-id", required_argument, NULL, OPT_APP_ID},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"fault-429", required_argument, NULL, OPT_FAULT_429},
    {"retry-after", required_argument, NULL, OPT_RETRY_AFTER},
    {"retry-after-date", no_argument, NULL, OPT_RETRY_AFTER_DATE},
    {"fault-5xx", required_argument, NULL, OPT_FAULT_5XX},
    {"fault-drop", required_argument, NULL, OPT_FAULT_DROP},
    {"fault-truncate", required_argument, NULL, OPT_FAULT_TRUNCATE},
    {"fault-malformed", required_argument, NULL, OPT_FAULT_MALFORMED},
    {"token-lifetime", required_argument, NULL, OPT_TOKEN_LIFETIME},
    {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
    {"fault-seed", required_argument, NULL, OPT_FAULT_SEED},
    {"fault-429-burst", required_argument, NULL, OPT_FAULT_BURST},
    {"fault-token", no_argument, NULL, OPT_FAULT_TOKEN},
    {"unprovisioned-app", no_argument, NULL, OPT_UNPROVISIONED},
    {"gentu-unprovisioned-app", no_argument, NULL, OPT_UNPROVISIONED},
    {"gentu-todate-inclusive", no_argument, NULL, OPT_TODATE_INCLUSIVE},
    {"gentu-empty-last-page", no_argument, NULL, OPT_EMPTY_LAST_PAGE},
    {"gentu-body-credentials", no_argument, NULL, OPT_BODY_CREDENTIALS},
    {"gentu-tenants-list", required_argument, NULL, OPT_TENANTS_LIST},
    {"gentu-unpaired-status", required_argument, NULL, OPT_UNPAIRED_STATUS},
    {"gentu-wrong-app-status", required_argument, NULL, OPT_WRONG_APP_STATUS},
    {"gentu-max-window-days", required_argument, NULL, OPT_MAX_WINDOW},
    {"gentu-cursor-unbound", no_argument, NULL, OPT_CURSOR_UNBOUND},
    {"gentu-token-errors", required_argument, NULL, OPT_TOKEN_ERRORS},
    {"gentu-cancel-body", required_argument, NULL, OPT_CANCEL_BODY},
    {"medirecords-raw-token", no_argument, NULL, OPT_MR_RAW_TOKEN},
    {"medirecords-oauth", no_argument, NULL, OPT_MR_OAUTH},
    {"medirecords-range-end-exclusive", no_argument, NULL, OPT_MR_RANGE_END_EXCLUSIVE},
    {"medirecords-empty-204", no_argument, NULL, OPT_MR_EMPTY_204},
    {"medirecords-interval-shape", required_argument, NULL, OPT_MR_INTERVAL_SHAPE},
    {"medirecords-types-envelope", required_argument, NULL, OPT_MR_TYPES_ENVELOPE},
    {"medirecords-providers", no_argument, NULL, OPT_MR_PROVIDERS},
    {"halaxy-expires-in", required_argument, NULL, OPT_HX_EXPIRES_IN},
    {"halaxy-expired-status", required_argument, NULL, OPT_HX_EXPIRED_STATUS},
    {"halaxy-no-range-prefixes", no_argument, NULL, OPT_HX_NO_RANGE_PREFIXES},
    {"halaxy-reference-style", required_argument, NULL, OPT_HX_REFERENCE_STYLE},
    {"halaxy-location-type", no_argument, NULL, OPT_HX_LOCATION_TYPE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void sbx_options_defaults(sbx_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->port = 0;
    cfg->threads = 4;
    cfg->request_log = 100000;
    cfg->body_limit = 1024 * 1024;
    cfg->dataset.seed = 1;
    cfg->dataset.days_before = 7;
    cfg->dataset.days_after = 14;
    cfg->dataset.practices = 3;
    cfg->dataset.practitioners = 6;
    cfg->dataset.appointments_per_day = 12;
    cfg->dataset.patients = 150;
    cfg->faults.fault_seed = 1;
    snprintf(cfg->gentu.client_id, sizeof(cfg->gentu.client_id), "sandbox-client");
    snprintf(cfg->gentu.client_secret, sizeof(cfg->gentu.client_secret), "sandbox-secret");
    snprintf(cfg->gentu.app_id, sizeof(cfg->gentu.app_id), "sandbox-app");
    cfg->gentu.tenants_list_all = true;
    cfg->gentu.unpaired_status = 403;
    cfg->gentu.wrong_app_status = 403;
    cfg->gentu.cursor_bound = true;
    cfg->gentu.token_errors = SBX_GENTU_ERRORS_OAUTH;
    snprintf(cfg->medirecords.client_id, sizeof(cfg->medirecords.client_id), "medirecords-client");
    snprintf(cfg->medirecords.client_secret, sizeof(cfg->medirecords.client_secret),
             "medirecords-secret");
    cfg->halaxy.expires_in = 3600;
    cfg->halaxy.expired_status = 401;
}

static void apply_large_preset(sbx_config *cfg)
{
    cfg->dataset.practices = 1;
    cfg->dataset.practitioners = 40;
    cfg->dataset.appointments_per_day = 60;
    cfg->dataset.patients = 2000;
    cfg->faults.latency_ms = 50;
}

void sbx_options_usage(FILE *out)
{
    fputs("usage: pms-sandbox [options]   (all options: docs/sandbox.md)\n"
          "  --port N --port-file PATH --threads N --request-log N --body-limit BYTES\n"
          "  --seed N --today YYYY-MM-DD --days-before N --days-after N --practices N\n"
          "  --practitioners N --appointments-per-day N --patients N --large\n"
          "  --client-id S --client-secret S --app-id S\n"
          "  --latency-ms N --fault-429 RATE --retry-after S --retry-after-date --fault-5xx RATE\n"
          "  --fault-drop RATE --fault-truncate RATE --fault-malformed RATE --token-lifetime S\n"
          "  --page-size N --fault-seed N --fault-429-burst N --fault-token\n"
          "  --unprovisioned-app --gentu-todate-inclusive --gentu-empty-last-page\n"
          "  --gentu-body-credentials --gentu-tenants-list all|paired\n"
          "  --gentu-unpaired-status 403|404 --gentu-wrong-app-status 403|404\n"
          "  --gentu-max-window-days N --gentu-cursor-unbound --gentu-token-errors oauth|apigee\n"
          "  --gentu-cancel-body action|status\n"
          "  --medirecords-raw-token --medirecords-oauth --medirecords-range-end-exclusive\n"
          "  --medirecords-empty-204 --medirecords-interval-shape array|data|objects\n"
          "  --medirecords-types-envelope data|page --medirecords-providers\n"
          "  --halaxy-expires-in S --halaxy-expired-status 401|403|400 --halaxy-no-range-prefixes\n"
          "  --halaxy-reference-style absolute|relative|bare|mixed --halaxy-location-type\n",
          out);
}

static int parse_long(const char *flag, const char *s, long long lo, long long hi, long long *out,
                      pms_error *err)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return pms_error_set(err, PMS_ERR_CONFIG, "--%s wants an integer in %lld..%lld", flag, lo,
                             hi);
    *out = v;
    return PMS_OK;
}

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out, pms_error *err)
{
    long long v = 0;
    int rc = parse_long(flag, s, lo, hi, &v, err);
    if (rc == PMS_OK)
        *out = (int)v;
    return rc;
}

static int parse_u64(const char *flag, const char *s, uint64_t *out, pms_error *err)
{
    char *end = NULL;
    errno = 0;
    if (s[0] == '-')
        return pms_error_set(err, PMS_ERR_CONFIG, "--%s wants a non-negative integer", flag);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return pms_error_set(err, PMS_ERR_CONFIG, "--%s wants a non-negative integer", flag);
    *out = (uint64_t)v;
    return PMS_OK;
}

static int parse_rate(const char *flag, const char *s, double *out, pms_error *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
        return pms_error_set(err, PMS_ERR_CONFIG, "--%s wants a probability in 0..1", flag);
    *out = v;
    return PMS_OK;
}

static int parse_status_choice(const char *flag, const char *s, int *out, pms_error *err)
{
    if (strcmp(s, "403") == 0 || strcmp(s, "404") == 0) {
        *out = atoi(s);
        return PMS_OK;
    }
    return pms_error_set(err, PMS_ERR_CONFIG, "--%s wants 403 or 404", flag);
}

static int copy_credential(const char *flag, const char *s, char *dst, size_t len, pms_error *err)
{
    size_t n = strlen(s);
    if (n == 0 || n >= len || strpbrk(s, ":\r\n") != NULL)
        return pms_error_set(err, PMS_ERR_CONFIG,
                             "--%s must be 1..%zu characters without ':' or line breaks", flag,
                             len - 1);
    memcpy(dst, s, n + 1);
    return PMS_OK;
}

/* The index of arg among names (NULL-terminated), or -1 after filling err. */
static int parse_name(const char *flag, const char *arg, const char *const *names, int *out,
                      pms_error *err)
{
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(arg, names[i]) == 0) {
            *out = i;
            return PMS_OK;
        }
    }
    return pms_error_set(err, PMS_ERR_CONFIG, "--%s: unknown value %s", flag, arg);
}

/* Options of the Medirecords and Halaxy simulators. */
static int apply_vendor_option(int opt, const char *flag, const char *arg, sbx_config *cfg,
                               pms_error *err)
{
    static const char *const interval_shapes[] = {"array", "data", "objects", NULL};
    static const char *const types_envelopes[] = {"data", "page", NULL};
    static const char *const reference_styles[] = {"absolute", "relative", "bare", "mixed", NULL};
    sbx_medirecords_config *mc = &cfg->medirecords;
    sbx_halaxy_config *hc = &cfg->halaxy;
    int choice = 0, rc;
    switch (opt) {
    case OPT_MR_RAW_TOKEN:
        mc->raw_token = true;
        return PMS_OK;
    case OPT_MR_OAUTH:
        mc->oauth = true;
        return PMS_OK;
    case OPT_MR_RANGE_END_EXCLUSIVE:
        mc->range_end_exclusive = true;
        return PMS_OK;
    case OPT_MR_EMPTY_204:
        mc->empty_204 = true;
        return PMS_OK;
    case OPT_MR_PROVIDERS:
        mc->providers = true;
        return PMS_OK;
    case OPT_MR_INTERVAL_SHAPE:
        rc = parse_name(flag, arg, interval_shapes, &choice, err);
        mc->interval_shape = rc == PMS_OK ? (sbx_mr_interval_shape)choice : mc->interval_shape;
        return rc;
    case OPT_MR_TYPES_ENVELOPE:
        rc = parse_name(flag, arg, types_envelopes, &choice, err);
        mc->types_page = rc == PMS_OK ? choice == 1 : mc->types_page;
        return rc;
    case OPT_HX_EXPIRES_IN:
        return parse_int(flag, arg, 1, 30 * 86400, &hc->expires_in, err);
    case OPT_HX_EXPIRED_STATUS:
        if (strcmp(arg, "401") != 0 && strcmp(arg, "403") != 0 && strcmp(arg, "400") != 0)
            return pms_error_set(err, PMS_ERR_CONFIG, "--%s wants 401, 403 or 400", flag);
        hc->expired_status = atoi(arg);
        return PMS_OK;
    case OPT_HX_NO_RANGE_PREFIXES:
        hc->no_range_prefixes = true;
        return PMS_OK;
    case OPT_HX_REFERENCE_STYLE:
        rc = parse_name(flag, arg, reference_styles, &choice, err);
        hc->reference_style = rc == PMS_OK ? (sbx_hx_reference_style)choice : hc->reference_style;
        return rc;
    case OPT_HX_LOCATION_TYPE:
        hc->location_type = true;
        return PMS_OK;
    default:
        return pms_error_set(err, PMS_ERR_CONFIG, "unknown option");
    }
}

static int apply_option(int opt, const char *arg, sbx_config *cfg, pms_error *err)
{
    const char *flag = NULL;
    for (const struct option *o = long_options; o->name != NULL; o++) {
        if (o->val == opt) {
            flag = o->name;
            break;
        }
    }
    sbx_dataset_config *ds = &cfg->dataset;
    sbx_fault_config *fc = &cfg->faults;
    sbx_gentu_config *gc = &cfg->gentu;
    switch (opt) {
    case OPT_PORT:
        return parse_int(flag, arg, 0, 65535, &cfg->port, err);
    case OPT_PORT_FILE:
        cfg->port_file = arg;
        return PMS_OK;
    case OPT_THREADS:
        return parse_int(flag, arg, 1, 64, &cfg->threads, err);
    case OPT_REQUEST_LOG:
        return parse_int(flag, arg, 16, 10000000, &cfg->request_log, err);
    case OPT_BODY_LIMIT:
        return parse_int(flag, arg, 1024, 256 * 1024 * 1024, &cfg->body_limit, err);
    case OPT_SEED:
        return parse_u64(flag, arg, &ds->seed, err);
    case OPT_TODAY:
        if (pms_date_parse(arg, &ds->today, NULL) != PMS_OK)
            return pms_error_set(err, PMS_ERR_CONFIG, "--today wants YYYY-MM-DD");
        ds->today_set = true;
        return PMS_OK;
    case OPT_DAYS_BEFORE:
        return parse_int(flag, arg, 0, 366, &ds->days_before, err);
    case OPT_DAYS_AFTER:
        return parse_int(flag, arg, 0, 366, &ds->days_after, err);
    case OPT_PRACTICES:
        return parse_int(flag, arg, 1, 64, &ds->practices, err);
    case OPT_PRACTITIONERS:
        return parse_int(flag, arg, 1, 500, &ds->practitioners, err);
    case OPT_APPTS_PER_DAY:
        return parse_int(flag, arg, 0, 200, &ds->appointments_per_day, err);
    case OPT_PATIENTS:
        return parse_int(flag, arg, 1, 100000, &ds->patients, err);
    case OPT_LARGE:
        return PMS_OK; /* applied before the other flags */
    case OPT_CLIENT_ID:
        return copy_credential(flag, arg, gc->client_id, sizeof(gc->client_id), err);
    case OPT_CLIENT_SECRET:
        return copy_credential(flag, arg, gc->client_secret, sizeof(gc->client_secret), err);
    case OPT_APP_ID:
        return copy_credential(flag, arg, gc->app_id, sizeof(gc->app_id), err);
    case OPT_LATENCY:
        return parse_int(flag, arg, 0, 600000, &fc->latency_ms, err);
    case OPT_FAULT_429:
        return parse_rate(flag, arg, &fc->rate_429, err);
    case OPT_RETRY_AFTER:
        return parse_int(flag, arg, 0, 86400, &fc->retry_after, err);
    case OPT_RETRY_AFTER_DATE:
        fc->retry_after_date = true;
        return PMS_OK;
    case OPT_FAULT_5XX:
        return parse_rate(flag, arg, &fc->rate_5xx, err);
    case OPT_FAULT_DROP:
        return parse_rate(flag, arg, &fc->rate_drop, err);
    case OPT_FAULT_TRUNCATE:
        return parse_rate(flag, arg, &fc->rate_truncate, err);
    case OPT_FAULT_MALFORMED:
        return parse_rate(flag, arg, &fc->rate_malformed, err);
    case OPT_TOKEN_LIFETIME:
        return parse_int(flag, arg, 1, 30 * 86400, &fc->token_lifetime, err);
    case OPT_PAGE_SIZE:
        return parse_int(flag, arg, 0, 100000, &fc->page_size, err);
    case OPT_FAULT_SEED:
        return parse_u64(flag, arg, &fc->fault_seed, err);
    case OPT_FAULT_BURST:
        return parse_int(flag, arg, 0, 1000000, &fc->burst_429, err);
    case OPT_FAULT_TOKEN:
        fc->fault_token = true;
        return PMS_OK;
    case OPT_UNPROVISIONED:
        gc->unprovisioned_app = true;
        return PMS_OK;
    case OPT_TODATE_INCLUSIVE:
        gc->todate_inclusive = true;
        return PMS_OK;
    case OPT_EMPTY_LAST_PAGE:
        gc->empty_last_page = true;
        return PMS_OK;
    case OPT_BODY_CREDENTIALS:
        gc->body_credentials = true;
        return PMS_OK;
    case OPT_TENANTS_LIST:
        if (strcmp(arg, "all") != 0 && strcmp(arg, "paired") != 0)
            return pms_error_set(err, PMS_ERR_CONFIG, "--%s wants all or paired", flag);
        gc->tenants_list_all = strcmp(arg, "all") == 0;
        return PMS_OK;
    case OPT_UNPAIRED_STATUS:
        return parse_status_choice(flag, arg, &gc->unpaired_status, err);
    case OPT_WRONG_APP_STATUS:
        return parse_status_choice(flag, arg, &gc->wrong_app_status, err);
    case OPT_MAX_WINDOW:
        return parse_int(flag, arg, 0, 3650, &gc->max_window_days, err);
    case OPT_CURSOR_UNBOUND:
        gc->cursor_bound = false;
        return PMS_OK;
    case OPT_TOKEN_ERRORS:
        if (strcmp(arg, "oauth") == 0)
            gc->token_errors = SBX_GENTU_ERRORS_OAUTH;
        else if (strcmp(arg, "apigee") == 0)
            gc->token_errors = SBX_GENTU_ERRORS_APIGEE;
        else
            return pms_error_set(err, PMS_ERR_CONFIG, "--%s wants oauth or apigee", flag);
        return PMS_OK;
    case OPT_CANCEL_BODY:
        if (strcmp(arg, "action") != 0 && strcmp(arg, "status") != 0)
            return pms_error_set(err, PMS_ERR_CONFIG, "--%s wants action or status", flag);
        gc->cancel_by_status = strcmp(arg, "status") == 0;
        return PMS_OK;
    default:
        return apply_vendor_option(opt, flag, arg, cfg, err);
    }
}

int sbx_options_parse(int argc, char **argv, sbx_config *cfg, bool *help, pms_error *err)
{
    *help = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--large") == 0)
            apply_large_preset(cfg);
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            *help = true;
            return PMS_OK;
        }
    }
    optind = 1;
    opterr = 0;
    for (;;) {
        int opt = getopt_long(argc, argv, "", long_options, NULL);
        if (opt == -1)
            break;
        if (opt == '?' || opt == ':')
            return pms_error_set(err, PMS_ERR_CONFIG, "unknown option or missing value: %s",
                                 argv[optind - 1]);
        int rc = apply_option(opt, optarg, cfg, err);
        if (rc != PMS_OK)
            return rc;
    }
    if (optind < argc)
        return pms_error_set(err, PMS_ERR_CONFIG, "unexpected argument: %s", argv[optind]);
    return PMS_OK;
}
