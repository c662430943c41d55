/* Authenticating Vapi's requests per clinic: bearer secret or HMAC with a timestamp window and
 * a replay cache kept in the database (voice_replays), so a signature is used once across every
 * pmsd sharing it. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pmsync/crypto.h"
#include "pmsync/log.h"
#include "server/app.h"
#include "server/voice.h"

/* A signature is remembered twice as long as a timestamp is accepted: any replay within the
 * window is seen. */
#define REPLAY_KEEP_MS (2 * PMSD_VOICE_WINDOW_MS)

/* True when sig was not seen before (and remembers it), in the database every worker shares;
 * false too when the database cannot say (refused rather than risk a replay). */
static bool first_sighting(pms_store *st, const char *account_id, const char *sig, pms_instant now)
{
    bool fresh = false;
    pms_error err = {0};
    if (st->ops->voice_replay_claim(st, account_id, sig, now, now + REPLAY_KEEP_MS, &fresh, &err) !=
        PMS_OK) {
        pms_log(PMS_LOG_ERROR, "voice.replay_cache_failed", "reason", err.message, NULL);
        return false;
    }
    return fresh;
}

void pmsd_voice_aad(const char *account_id, const char *which, char *out, size_t len)
{
    pms_voice_aad(account_id, which, out, len);
}

static char *open_secret(const pmsd_request *req, const pms_voice_settings *v, const char *which,
                         const char *sealed, size_t *len)
{
    char aad[128];
    char *plain = NULL;
    pmsd_voice_aad(v->account_id, which, aad, sizeof aad);
    if (sealed == NULL || req->app->ring == NULL ||
        pms_open(req->app->ring, aad, sealed, &plain, len, NULL) != PMS_OK)
        return NULL;
    return plain;
}

static bool same(const char *a, size_t a_len, const char *b, size_t b_len)
{
    return a_len == b_len && a_len > 0 && CRYPTO_memcmp(a, b, a_len) == 0;
}

const char *pmsd_voice_bearer_sent(const char *vapi_secret, const char *authorization)
{
    if (vapi_secret != NULL)
        return vapi_secret;
    if (authorization && strncasecmp(authorization, "Bearer ", 7) == 0)
        return authorization + 7;
    return NULL;
}

bool pmsd_voice_secret_matches(const char *sent, const char *secret, size_t secret_len)
{
    return sent && secret && same(sent, strlen(sent), secret, secret_len);
}

static bool bearer_ok(const pmsd_request *req, const pms_voice_settings *v)
{
    const char *sent = pmsd_voice_bearer_sent(pmsd_header(req, "X-Vapi-Secret"),
                                              pmsd_header(req, "Authorization"));
    if (sent == NULL)
        return false;
    size_t len = 0;
    char *secret = open_secret(req, v, "bearer", v->bearer_sealed, &len);
    bool ok = pmsd_voice_secret_matches(sent, secret, len);
    if (secret)
        pms_secure_free(secret, len);
    return ok;
}

bool pmsd_voice_hmac_valid(const char *sig, const char *ts, const char *body, size_t body_len,
                           const char *secret, size_t secret_len, pms_instant now,
                           char lower_sig[65])
{
    if (sig == NULL || ts == NULL || secret == NULL)
        return false;
    if (strncasecmp(sig, "sha256=", 7) == 0)
        sig += 7;
    char *end = NULL;
    long long stamp = strtoll(ts, &end, 10);
    if (end == ts || *end != '\0' || stamp <= 0 || strlen(sig) != 64)
        return false;
    pms_instant when = stamp < 100000000000LL ? stamp * 1000 : stamp; /* seconds or ms */
    if (when < now - PMSD_VOICE_WINDOW_MS || when > now + PMSD_VOICE_WINDOW_MS)
        return false;
    size_t ts_len = strlen(ts);
    size_t msg_len = ts_len + 1 + body_len;
    char *msg = malloc(msg_len + 1);
    unsigned char mac[PMS_HMAC_BYTES];
    bool ok = false;
    if (msg) {
        memcpy(msg, ts, ts_len);
        msg[ts_len] = '.';
        if (body_len)
            memcpy(msg + ts_len + 1, body, body_len);
        if (pms_hmac_sha256(secret, secret_len, msg, msg_len, mac, NULL) == PMS_OK) {
            char hex[65];
            for (size_t i = 0; i < PMS_HMAC_BYTES; i++)
                snprintf(hex + 2 * i, 3, "%02x", mac[i]);
            for (size_t i = 0; i < 64; i++)
                lower_sig[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] + 32 : sig[i]);
            lower_sig[64] = '\0';
            ok = CRYPTO_memcmp(hex, lower_sig, 64) == 0;
        }
    }
    free(msg);
    return ok;
}

static bool hmac_ok(const pmsd_request *req, pms_store *st, const pms_voice_settings *v)
{
    const char *sig = pmsd_header(req, PMSD_VOICE_SIGNATURE_HDR);
    const char *ts = pmsd_header(req, PMSD_VOICE_TIMESTAMP_HDR);
    if (sig == NULL || ts == NULL || v->hmac_sealed == NULL)
        return false;
    size_t len = 0;
    char *secret = open_secret(req, v, "hmac", v->hmac_sealed, &len);
    char lower[65];
    pms_instant now = pms_now();
    bool ok = secret &&
              pmsd_voice_hmac_valid(sig, ts, req->body, req->body_len, secret, len, now, lower) &&
              first_sighting(st, v->account_id, lower, now);
    if (secret)
        pms_secure_free(secret, len);
    return ok;
}

bool pmsd_voice_authenticate(pmsd_request *req, pms_store *st, const pms_voice_settings *v,
                             const char **method)
{
    if (pmsd_header(req, PMSD_VOICE_SIGNATURE_HDR)) {
        *method = "hmac";
        return hmac_ok(req, st, v);
    }
    *method = "bearer";
    return bearer_ok(req, v);
}
