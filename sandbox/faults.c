#include "faults.h"

#include <pthread.h>
#include <string.h>

#include "prng.h"

static pthread_mutex_t faults_lock = PTHREAD_MUTEX_INITIALIZER;
static sbx_fault_config startup_settings;
static sbx_fault_config settings;
static sbx_prng fault_prng;

void sbx_faults_init(const sbx_fault_config *startup)
{
    pthread_mutex_lock(&faults_lock);
    startup_settings = *startup;
    settings = *startup;
    sbx_prng_derive(&fault_prng, settings.fault_seed, 0xfa, 0x17, 0);
    pthread_mutex_unlock(&faults_lock);
}

void sbx_faults_get(sbx_fault_config *out)
{
    pthread_mutex_lock(&faults_lock);
    *out = settings;
    pthread_mutex_unlock(&faults_lock);
}

void sbx_faults_reset(void)
{
    sbx_faults_init(&startup_settings);
}

json_t *sbx_faults_json(void)
{
    sbx_fault_config s;
    sbx_faults_get(&s);
    return json_pack("{s:i, s:f, s:i, s:b, s:f, s:f, s:f, s:f, s:i, s:i, s:I, s:i, s:b}",
                     "latency_ms", s.latency_ms, "fault_429", s.rate_429, "retry_after",
                     s.retry_after, "retry_after_date", s.retry_after_date, "fault_5xx", s.rate_5xx,
                     "fault_drop", s.rate_drop, "fault_truncate", s.rate_truncate,
                     "fault_malformed", s.rate_malformed, "token_lifetime", s.token_lifetime,
                     "page_size", s.page_size, "fault_seed", (json_int_t)s.fault_seed,
                     "fault_429_burst", s.burst_429, "fault_token", s.fault_token);
}

static int set_rate(const char *key, const json_t *v, double *out, pms_error *err)
{
    if (!json_is_number(v) || json_number_value(v) < 0.0 || json_number_value(v) > 1.0)
        return pms_error_set(err, PMS_ERR_INVALID, "%s must be a number in 0..1", key);
    *out = json_number_value(v);
    return PMS_OK;
}

static int set_int(const char *key, const json_t *v, json_int_t lo, json_int_t hi, int *out,
                   pms_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return pms_error_set(err, PMS_ERR_INVALID, "%s must be an integer in %lld..%lld", key,
                             (long long)lo, (long long)hi);
    *out = (int)json_integer_value(v);
    return PMS_OK;
}

static int set_bool(const char *key, const json_t *v, bool *out, pms_error *err)
{
    if (!json_is_boolean(v))
        return pms_error_set(err, PMS_ERR_INVALID, "%s must be true or false", key);
    *out = json_is_true(v);
    return PMS_OK;
}

static int apply_key(sbx_fault_config *s, const char *key, const json_t *v, pms_error *err)
{
    if (strcmp(key, "latency_ms") == 0)
        return set_int(key, v, 0, 600000, &s->latency_ms, err);
    if (strcmp(key, "fault_429") == 0)
        return set_rate(key, v, &s->rate_429, err);
    if (strcmp(key, "retry_after") == 0)
        return set_int(key, v, 0, 86400, &s->retry_after, err);
    if (strcmp(key, "retry_after_date") == 0)
        return set_bool(key, v, &s->retry_after_date, err);
    if (strcmp(key, "fault_5xx") == 0)
        return set_rate(key, v, &s->rate_5xx, err);
    if (strcmp(key, "fault_drop") == 0)
        return set_rate(key, v, &s->rate_drop, err);
    if (strcmp(key, "fault_truncate") == 0)
        return set_rate(key, v, &s->rate_truncate, err);
    if (strcmp(key, "fault_malformed") == 0)
        return set_rate(key, v, &s->rate_malformed, err);
    if (strcmp(key, "token_lifetime") == 0)
        return set_int(key, v, 0, 30 * 86400, &s->token_lifetime, err);
    if (strcmp(key, "page_size") == 0)
        return set_int(key, v, 0, 100000, &s->page_size, err);
    if (strcmp(key, "fault_429_burst") == 0)
        return set_int(key, v, 0, 1000000, &s->burst_429, err);
    if (strcmp(key, "fault_token") == 0)
        return set_bool(key, v, &s->fault_token, err);
    if (strcmp(key, "fault_seed") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return pms_error_set(err, PMS_ERR_INVALID, "fault_seed must be an integer >= 0");
        s->fault_seed = (uint64_t)json_integer_value(v);
        return PMS_OK;
    }
    return pms_error_set(err, PMS_ERR_INVALID, "unknown fault setting: %s", key);
}

int sbx_faults_update(const json_t *patch, pms_error *err)
{
    if (!json_is_object(patch))
        return pms_error_set(err, PMS_ERR_INVALID, "fault settings must be a JSON object");
    pthread_mutex_lock(&faults_lock);
    sbx_fault_config next = settings;
    const char *key;
    json_t *value;
    int rc = PMS_OK;
    json_object_foreach((json_t *)patch, key, value)
    {
        rc = apply_key(&next, key, value, err);
        if (rc != PMS_OK)
            break;
    }
    if (rc == PMS_OK) {
        bool reseed =
            next.fault_seed != settings.fault_seed || json_object_get(patch, "fault_seed") != NULL;
        settings = next;
        if (reseed)
            sbx_prng_derive(&fault_prng, settings.fault_seed, 0xfa, 0x17, 0);
    }
    pthread_mutex_unlock(&faults_lock);
    return rc;
}

void sbx_faults_decide(bool is_token, sbx_fault_decision *out)
{
    static const int statuses_5xx[] = {500, 502, 503, 504};
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&faults_lock);
    out->latency_ms = settings.latency_ms;
    out->retry_after = settings.retry_after;
    out->retry_after_date = settings.retry_after_date;
    if (is_token && !settings.fault_token)
        goto out;
    if (settings.burst_429 > 0) {
        settings.burst_429--;
        out->kind = SBX_FAULT_429;
        out->status = 429;
        goto out;
    }
    if (sbx_prng_chance(&fault_prng, settings.rate_429)) {
        out->kind = SBX_FAULT_429;
        out->status = 429;
        goto out;
    }
    if (sbx_prng_chance(&fault_prng, settings.rate_5xx)) {
        out->kind = SBX_FAULT_5XX;
        out->status = statuses_5xx[sbx_prng_below(&fault_prng, 4)];
        goto out;
    }
    if (sbx_prng_chance(&fault_prng, settings.rate_drop))
        out->kind = SBX_FAULT_DROP;
out:
    pthread_mutex_unlock(&faults_lock);
}

bool sbx_faults_truncate(bool is_token, size_t body_len, size_t *cut)
{
    bool truncate = false;
    if (body_len < 2)
        return false;
    pthread_mutex_lock(&faults_lock);
    if ((!is_token || settings.fault_token) &&
        sbx_prng_chance(&fault_prng, settings.rate_truncate)) {
        truncate = true;
        /* Somewhere in the middle half, so the cut is never at a clean boundary. */
        size_t lo = body_len / 4 + 1;
        size_t span = body_len / 2;
        *cut = lo + (span > 0 ? sbx_prng_below(&fault_prng, (uint32_t)span) : 0);
        if (*cut >= body_len)
            *cut = body_len - 1;
    }
    pthread_mutex_unlock(&faults_lock);
    return truncate;
}

/* How many ways a record can be malformed; the PMS decides what each variant means. */
#define MALFORMED_VARIANTS 64

bool sbx_faults_malformed_with(double rate, uint64_t seed, const char *record_id, unsigned *variant)
{
    if (rate <= 0.0 || record_id == NULL)
        return false;
    uint64_t h = sbx_hash_str(seed ^ 0x6d616c666f726dULL, record_id);
    double u = (double)(h >> 11) * 0x1.0p-53;
    if (u >= rate)
        return false;
    if (variant != NULL)
        *variant = (unsigned)(sbx_mix64(h) % MALFORMED_VARIANTS);
    return true;
}

bool sbx_faults_malformed(const char *record_id, unsigned *variant)
{
    pthread_mutex_lock(&faults_lock);
    double rate = settings.rate_malformed;
    uint64_t seed = settings.fault_seed;
    pthread_mutex_unlock(&faults_lock);
    return sbx_faults_malformed_with(rate, seed, record_id, variant);
}

int sbx_faults_token_lifetime(int pms_default)
{
    pthread_mutex_lock(&faults_lock);
    int v = settings.token_lifetime;
    pthread_mutex_unlock(&faults_lock);
    return v > 0 ? v : pms_default;
}

int sbx_faults_page_size(void)
{
    pthread_mutex_lock(&faults_lock);
    int v = settings.page_size;
    pthread_mutex_unlock(&faults_lock);
    return v;
}
