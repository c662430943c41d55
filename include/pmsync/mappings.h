/* The practice's choices about a connection's catalogue, shared by pmsctl and pmsd: which
 * run-sheet clinician each PMS practitioner fills, whether they are synced, and which
 * appointment types are telehealth or excluded. Each call checks that the practitioner, type and
 * clinician belong to the connection's account and names the one that does not (err->field).
 * The changes open no transaction of their own: callers that make several changes wrap them in
 * one (begin/commit) so they land together or not at all. */
#ifndef PMSYNC_MAPPINGS_H
#define PMSYNC_MAPPINGS_H

#include "pmsync/connections.h"

/* Opens a session, reads the practitioners and/or appointment types from the PMS into the
 * store, saves any new token and closes the session. *practitioners_listed (may be NULL) is
 * false when the PMS lists no practitioners (they are adopted from appointments instead); that
 * is not an error. */
int pms_catalog_refresh(pms_store *st, const pms_keyring *ring, const pms_connection *c,
                        const pms_session_options *opts, bool practitioners, bool types,
                        bool *practitioners_listed, pms_error *err);

/* The practitioners of a connection as JSON: each with its mapping, whether it is synced (and
 * why not), and clinicians with similar names as suggestions. */
int pms_practitioners_to_json(pms_store *st, const pms_connection *c, json_t **out, pms_error *err);
/* The appointment types of a connection as JSON, with telehealth and sync flags. */
int pms_types_to_json(pms_store *st, const pms_connection *c, json_t **out, pms_error *err);

/* Maps a practitioner to an existing clinician of the account (and enables syncing). */
int pms_mapping_assign(pms_store *st, const pms_connection *c, const char *practitioner_id,
                       const char *clinician_id, pms_error *err);
/* Creates a clinician (named like the practitioner unless name is given) and maps to it.
 * clinician_id_out (may be NULL) receives the new clinician's id. */
int pms_mapping_create_clinician(pms_store *st, const pms_connection *c,
                                 const char *practitioner_id, const char *name,
                                 char clinician_id_out[PMS_STORE_ID_LEN], pms_error *err);
/* Leaves a practitioner without a clinician (not synced). */
int pms_mapping_unmap(pms_store *st, const pms_connection *c, const char *practitioner_id,
                      pms_error *err);
/* Turns syncing of a mapped practitioner on or off. */
int pms_mapping_set_enabled(pms_store *st, const pms_connection *c, const char *practitioner_id,
                            bool enabled, pms_error *err);

/* Sets an appointment type's flags (-1 keeps a flag). PMS_ERR_NOT_FOUND when the type is not
 * known for the connection. */
int pms_type_set_flags(pms_store *st, const pms_connection *c, const char *type_id,
                       int is_telehealth, int sync_enabled, pms_error *err);
/* Marks every type whose name suggests telehealth (or unmarks, with on = false); *count
 * receives how many. */
int pms_type_mark_suggested(pms_store *st, const pms_connection *c, bool on, int *count,
                            pms_error *err);

#endif
