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

/* PUT /api/voice/settings: known keys, secrets of 16 to 512 characters (or null), ids of at
 * most 128. A 400 in resp otherwise. */
bool pmsd_read_voice_settings(const json_t *body, pmsd_response *resp);

/* ---- the pure parts (no store, no key ring): also what fuzz/fuzz_voice.c drives ---- */

/* The credential a bearer request carries: X-Vapi-Secret, else Authorization: Bearer <secret>
 * (borrowed from the headers), or NULL. */
const char *pmsd_voice_bearer_sent(const char *vapi_secret, const char *authorization);
/* sent equals the secret (constant-time compare; an empty secret never matches). */
bool pmsd_voice_secret_matches(const char *sent, const char *secret, size_t secret_len);
/* The HMAC check without the replay cache: sig (X-Signature: 64 hex digits, optional "sha256="
 * prefix) is HMAC-SHA256 with secret over "{ts}.{body}", and ts (X-Timestamp: seconds or
 * milliseconds) is within PMSD_VOICE_WINDOW_MS of now. On true, lower_sig holds the signature
 * in lower case (the replay cache's key). */
bool pmsd_voice_hmac_valid(const char *sig, const char *ts, const char *body, size_t body_len,
                           const char *secret, size_t secret_len, pms_instant now,
                           char lower_sig[65]);

/* Whether body is a tool-calls server message; *msg: its "message" object, *calls: its
 * toolCallList or toolWithToolCallList (borrowed; may be NULL or not an array, then no call). */
bool pmsd_voice_tool_calls(const json_t *body, const json_t **msg, const json_t **calls);
/* The clinic the calls are for: query_clinic (?clinic=) or the first call's clinic_id argument.
 * False when two calls name different clinics. clinic is "" when none is named. */
bool pmsd_voice_clinic(const json_t *calls, const char *query_clinic, char clinic[64]);
/* A call's name and arguments: function.name / function.arguments (object, or a string of
 * JSON), falling back to the item's name / arguments / parameters. *args: a new reference,
 * always an object. */
void pmsd_voice_read_call(const json_t *item, const char **name, json_t **args);
/* One item of the call list (a call, or a tool with its toolCall): the call (borrowed), its
 * name, arguments (as pmsd_voice_read_call) and id (borrowed; NULL when missing). */
const json_t *pmsd_voice_call_of(const json_t *item, const char **name, json_t **args,
                                 const char **tool_call_id);

#endif
