/* Connection management shared by pmsctl and pmsd: creating and updating connections with
 * settings checked against the adapter's declarations (secrets sealed with the key ring),
 * opening a session for a stored connection, pairing, testing, and refreshing the
 * practitioner and appointment-type catalogues.
 */
#ifndef PMSYNC_CONNECTIONS_H
#define PMSYNC_CONNECTIONS_H

#include <stdatomic.h>

#include "pmsync/crypto.h"
#include "pmsync/session.h"
#include "pmsync/store.h"

/* A KEY=VALUE setting given by a person. */
typedef struct pms_setting_value {
    const char *key;
    const char *value; /* "" clears an optional setting */
} pms_setting_value;

/* Connection fields common to every PMS (NULL / negative = leave as is). */
typedef struct pms_connection_fields {
    const char *display_name;
    const char *base_url; /* "" resets to the adapter's default */
    const char *timezone;
    int sync_enabled;           /* -1 keep */
    int sync_frequency_minutes; /* 0 keep */
    int sync_telehealth_only;   /* -1 keep */
    int skip_unmapped;          /* -1 keep */
    const char *setup_step;     /* NULL keep, "" set-up complete, else one of
                                   pms_connection_setup_steps */
} pms_connection_fields;

/* The steps of the web UI's set-up wizard, in order (NULL-terminated): "connect",
 * "practitioners", "types", "confirm". A connection without a step has finished set-up. */
extern const char *const pms_connection_setup_steps[];

/* Generic (PMS-independent) settings every connection accepts, e.g. rate limits and retry. */
const pms_setting_def *pms_generic_settings(void);

/* Creates a connection; *id_out (37 bytes) receives its id. Unknown settings, missing required
 * ones and invalid values (time zone, URL) are PMS_ERR_INVALID naming the field. */
int pms_connection_create(pms_store *st, const pms_keyring *ring, const char *account_id,
                          const char *pms_type, const pms_connection_fields *fields,
                          const pms_setting_value *settings, size_t setting_count,
                          char id_out[PMS_UUID_LEN], pms_error *err);

/* Changes fields and settings of a connection. */
int pms_connection_update(pms_store *st, const pms_keyring *ring, const char *id,
                          const pms_connection_fields *fields, const pms_setting_value *settings,
                          size_t setting_count, pms_error *err);

/* The associated data that binds a sealed value to its row and column:
 * "pms_connections/<id>/<field>", field one of "secrets", "access_token", "refresh_token".
 * A new string the caller frees; NULL when out of memory. */
char *pms_connection_aad(const char *connection_id, const char *field);

/* The supported PMSs as JSON: {"pms": [{name, displayName, defaultBaseUrl, capabilities,
 * settings: [{key, label, help, required, secret, default}]}], "genericSettings": [...]}. */
json_t *pms_systems_to_json(void);

/* A connection as JSON for people and APIs: secrets never included, only which are set. */
json_t *pms_connection_to_json(const pms_connection *c);

/* The settings a session sees: plain settings plus decrypted secrets. New reference. */
int pms_connection_settings(const pms_connection *c, const pms_keyring *ring, json_t **out,
                            pms_error *err);

/* Opening a session for a stored connection. */
typedef struct pms_session_options {
    const atomic_bool *cancel;
    pms_http_options http;
    pms_retry_policy retry;
    pms_rate_limits pms_limits;
} pms_session_options;

/* Limits shared by every connection of a PMS in this process, from PMSYNC_RATE_LIMIT_<PMS>
 * ("PER_MINUTE" or "PER_MINUTE/PER_HOUR", e.g. PMSYNC_RATE_LIMIT_GENTU=600/20000); zeros (no
 * shared limit) when unset or unreadable. */
pms_rate_limits pms_limits_from_env(const char *pms_type);

/* Tokens minted during a session, to be stored (sealed) when the session's work is done. */
typedef struct pms_token_box pms_token_box;

int pms_connection_open_session(pms_store *st, const pms_keyring *ring, const pms_connection *c,
                                const pms_session_options *opts, pms_token_box **box,
                                pms_session **out, pms_error *err);
/* Loads the connection's stored appointment types and telehealth choices into a session. */
int pms_connection_reload_types(pms_store *st, pms_session *s, const char *connection_id,
                                pms_error *err);
/* Seals and stores the newest token the session minted (if any), then frees the box. */
int pms_token_box_save(pms_token_box *box, pms_store *st, const pms_keyring *ring,
                       const char *connection_id, pms_error *err);
void pms_token_box_free(pms_token_box *box);

/* Pairs a connection with a pairing code, then records the practice's id, name and zone. */
int pms_connection_pair(pms_store *st, const pms_keyring *ring, const char *id, const char *code,
                        const pms_session_options *opts, pms_practice_info *info, pms_error *err);

/* Checks the connection against the PMS (auth + a cheap read). */
int pms_connection_test(pms_store *st, const pms_keyring *ring, const char *id,
                        const pms_session_options *opts, pms_health *out, pms_error *err);

/* Reads the practitioners from the PMS and brings the mappings up to date: new practitioners
 * get a mapping (and, unless the connection skips unmapped practitioners, a run-sheet
 * clinician of the same name, reusing one that already has exactly that name).
 * PMS_ERR_NOT_SUPPORTED when the PMS lists no practitioners: they are then adopted from the
 * appointments as they appear (pms_catalog_adopt_practitioner). */
int pms_catalog_refresh_practitioners(pms_store *st, pms_session *s, const pms_connection *c,
                                      pms_practitioner_list *out, pms_error *err);
/* A practitioner first seen in an appointment (a PMS that lists none, or one not listed): mapped
 * as a listed one would be. Runs inside the caller's transaction. *clinician_id: the mapped
 * clinician (a new string) or NULL when the connection skips unmapped practitioners. */
int pms_catalog_adopt_practitioner(pms_store *st, const pms_connection *c,
                                   const pms_practitioner_ref *p, char **clinician_id,
                                   pms_error *err);
/* Reads the appointment types from the PMS into pms_appointment_types (user flags kept). */
int pms_catalog_refresh_types(pms_store *st, pms_session *s, const pms_connection *c,
                              pms_error *err);

#endif
