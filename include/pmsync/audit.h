/* The audit log: one record for every touch of patient data and every change to security
 * settings, chained so that an edited, removed or truncated record is detected (docs/audit.md).
 *
 * Chain. Record n stores hash_n = HMAC-SHA256(K, prev_hash || canonical(record n)), where
 * prev_hash is the 32 bytes of hash_{n-1} (zeros for the first record), canonical() is the
 * length-framed encoding of every field including seq, the time and the key id (audit.md), and
 * K = HMAC-SHA256(key ring key, "pmsync audit chain v1"). Each record stores the id of the key
 * ring key it used, so a chain verifies across key rotations while old keys stay in the ring.
 *
 * Head. The audit_head row holds the last seq, the last hash and a MAC over them by the chain
 * key, so removing records from the end (and rewriting the head without the key) is detected.
 * pms_audit_append checks the head's MAC before extending the chain and refuses a head that does
 * not verify: a rewritten head is never blessed by a later append.
 *
 * Residual risk. Someone with write access to the database who saved an older, valid head (its
 * seq, hash and MAC) can remove every later record and put that head back: the shortened chain
 * verifies. So can someone who removes every record and resets the head to the empty state.
 * pms_audit_verify reports the head's seq and hash; recording them outside the database (a
 * ticket, a log shipper, write-once storage) and comparing later detects that roll-back.
 *
 * Patient data. Records carry PMS patient ids and resource paths, never names, phones, dates of
 * birth or notes; callers must keep those out of `resource`.
 *
 * Thread safety: use one store handle per thread (store.h); appends from many handles and
 * processes are serialised by the store's write transaction. The key ring may be shared.
 */
#ifndef PMSYNC_AUDIT_H
#define PMSYNC_AUDIT_H

#include <stdio.h>

#include <jansson.h>

#include "pmsync/crypto.h"
#include "pmsync/store.h"

#define PMS_AUDIT_KEY_LABEL "pmsync audit chain v1"

/* Field limits (bytes); longer values are PMS_ERR_INVALID. */
#define PMS_AUDIT_ACTION_MAX     64
#define PMS_AUDIT_RESOURCE_MAX   2048
#define PMS_AUDIT_ID_MAX         64 /* account id, actor key id */
#define PMS_AUDIT_ADDR_MAX       64
#define PMS_AUDIT_PATIENT_MAX    128 /* one patient id */
#define PMS_AUDIT_PATIENTS_COUNT 1000

/* What happened, as the caller describes it. Strings are borrowed for the call. */
typedef struct pms_audit_event {
    const char *account_id;    /* NULL: not tied to an account */
    const char *actor_key_id;  /* the API key's id; NULL for the system (pmsctl, the scheduler) */
    const char *actor_role;    /* "admin" | "staff" | "agent" | "system" */
    const char *action;        /* "runsheet.read", "appointment.create", "sync.write", ...:
                                * lower-case letters, digits, '.', '_' and '-' */
    const char *resource;      /* "/api/run-sheet?date=2026-03-02",
                                * "run_sheet_appointments/<id>": ids, never names */
    const json_t *patient_ids; /* array of strings (PMS patient ids); NULL: none */
    const char *client_addr;   /* NULL: none */
    int outcome;               /* HTTP status (100..599), or 0 */
    pms_instant at;            /* PMS_INSTANT_NONE (or 0): now */
} pms_audit_event;

/* Appends one record in one write transaction of its own: reads and checks the head, chains the
 * record under the ring's primary key, inserts it with seq = head + 1 and writes the new
 * authenticated head. Must not be called inside an open transaction (see pms_audit_append_tx).
 * On any failure nothing is written and the caller must fail the request it was recording:
 * PMS_ERR_INVALID for a bad event, PMS_ERR_CONFIG without a key ring, PMS_ERR_CRYPTO when the head
 * does not verify (tampering: run pmsctl audit verify), PMS_ERR_CONFLICT / PMS_ERR_STORE when the
 * database failed. The message starts with "cannot write the audit record". */
int pms_audit_append(pms_store *st, const pms_keyring *ring, const pms_audit_event *event,
                     pms_error *err);
/* The same inside the caller's write transaction (after st->ops->begin), so a record commits or
 * rolls back with the change it records. *seq_out (may be NULL) receives the record's seq. */
int pms_audit_append_tx(pms_store *st, const pms_keyring *ring, const pms_audit_event *event,
                        long long *seq_out, pms_error *err);

typedef enum pms_audit_problem {
    PMS_AUDIT_OK = 0,
    PMS_AUDIT_ALTERED,     /* a record does not match its hash: it was changed */
    PMS_AUDIT_MISSING,     /* seq numbers are missing: records were removed */
    PMS_AUDIT_BROKEN_LINK, /* a record's prev_hash is not the previous record's hash */
    PMS_AUDIT_TRUNCATED,   /* the head names records beyond the last one: the tail was removed */
    PMS_AUDIT_BAD_HEAD,    /* the head's MAC does not verify, or it does not match the records */
    PMS_AUDIT_MISSING_KEY, /* a record or the head used a key that is not in the key ring */
} pms_audit_problem;

/* "ok", "altered", "missing", "broken_link", "truncated", "bad_head", "missing_key". */
const char *pms_audit_problem_name(pms_audit_problem p);

typedef struct pms_audit_report {
    bool intact;            /* no problem at all */
    long long records;      /* records read */
    long long verified;     /* records whose hash verified */
    long long altered;      /* records whose hash did not */
    long long missing;      /* seq numbers absent (gaps and a removed tail) */
    long long broken_links; /* records whose prev_hash is not the previous hash */
    long long unverifiable; /* records chained with a key the ring does not hold */
    long long last_seq;     /* the last record read (0: none) */
    pms_audit_problem first_problem;
    long long first_bad_seq; /* where the first problem is (0 when intact) */
    char reason[256];        /* the first problem, for people; no record content */
    bool head_ok;            /* the head's MAC verified and it names the last record */
    pms_audit_head head;     /* as stored: anchor head.seq and head.hash outside the database */
} pms_audit_report;

/* Walks the whole chain from one snapshot (appends may go on meanwhile) and fills *out. PMS_OK
 * when the walk finished, whatever it found (out->intact says); another code when the log could
 * not be read. ring may be NULL (every record is then unverifiable). */
int pms_audit_verify(pms_store *st, const pms_keyring *ring, pms_audit_report *out, pms_error *err);

/* Writes the records with at in [from, to) (either bound PMS_INSTANT_NONE: open) to out as JSON
 * lines, one record per line, by seq (oldest first). *count (may be NULL) receives how many. */
int pms_audit_export(pms_store *st, pms_instant from, pms_instant to, FILE *out, pms_error *err);
int pms_audit_export_count(pms_store *st, pms_instant from, pms_instant to, FILE *out,
                           long long *count, pms_error *err);
/* A record as JSON: {seq, at, accountId, actorKeyId, actorRole, action, resource, patientIds,
 * clientAddr, outcome, keyId, prevHash, hash}. New reference. */
json_t *pms_audit_record_to_json(const pms_audit_record *r);

/* After tampering was found and looked into: makes the head name the last record that is there
 * (signed with the primary key) and appends an "audit.reseal" record whose resource says which
 * head it replaced, so appends can go on. Problems inside the chain stay visible to
 * pms_audit_verify; a removed tail is documented by the reseal record only. */
int pms_audit_reseal(pms_store *st, const pms_keyring *ring, pms_error *err);

#endif
