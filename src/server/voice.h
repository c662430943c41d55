/* The voice receptionist (Vapi): clinic credentials (voice_auth.c), the tools
 * (voice_tools.c) and the tool-calls endpoint (h_voice.c). Internal to src/server/. */
#ifndef PMSD_VOICE_H
#define PMSD_VOICE_H

#include "server/handlers.h"

#define PMSD_VOICE_BODY_LIMIT    (2u << 20)
#define PMSD_VOICE_WINDOW_MS     (5 * 60 * 1000)
#define PMSD_VOICE_SIGNATURE_HDR "X-Signature"
#define PMSD_VOICE_TIMESTAMP_HDR "X-Timestamp"

/* The aad a voice secret is sealed with: "voice:<account>:<which>" (bearer | hmac). */
void pmsd_voice_aad(const char *account_id, const char *which, char *out, size_t len);
/* Whether the request carries the account's credential: a bearer secret (Authorization: Bearer
 * or X-Vapi-Secret) or an HMAC-SHA256 over "{timestamp}.{raw body}" (X-Signature, hex, optional
 * "sha256=" prefix; X-Timestamp in seconds or milliseconds, within 5 minutes), not seen before
 * (replay cache in the database, shared by every worker). Constant-time compares. *method
 * receives "bearer" or "hmac". */
bool pmsd_voice_authenticate(pmsd_request *req, pms_store *st, const pms_voice_settings *v,
                             const char **method);

/* Runs one tool call as the account's agent: name and arguments (object); the connection from
 * the arguments' connection_id or the settings. Fills *result or *error (single-line sentences,
 * new strings). idem_key: the write's key (call id + tool call id). */
void pmsd_voice_run_tool(pmsd_request *req, const pms_voice_settings *v, const char *name,
                         const json_t *args, const char *idem_key, char **result, char **error);

#endif
