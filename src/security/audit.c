/* The audit log: appending to the keyed hash chain, verifying it, exporting it. The encoding
 * that is hashed is documented in docs/audit.md; changing it breaks every existing chain. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pmsync/audit.h"
#include "pmsync/log.h"

#define RECORD_TAG "pmsync.audit.record.v1"
#define HEAD_TAG   "pmsync.audit.head.v1"
#define NULL_FRAME 0xFFFFFFFFu
/* Keys whose chain key verify keeps at once (a ring rarely holds more than a few). */
#define KEY_CACHE_SIZE 16

static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

const char *pms_audit_problem_name(pms_audit_problem p)
{
    switch (p) {
    case PMS_AUDIT_ALTERED:
        return "altered";
    case PMS_AUDIT_MISSING:
        return "missing";
    case PMS_AUDIT_BROKEN_LINK:
        return "broken_link";
    case PMS_AUDIT_TRUNCATED:
        return "truncated";
    case PMS_AUDIT_BAD_HEAD:
        return "bad_head";
    case PMS_AUDIT_MISSING_KEY:
        return "missing_key";
    case PMS_AUDIT_OK:
        break;
    }
    return "ok";
}

/* ---- canonical encoding ---------------------------------------------------------------- */

/* A growing byte buffer; `failed` records an allocation failure or an oversized field. */
typedef struct buffer {
    unsigned char *data;
    size_t len, cap;
    bool failed;
} buffer;

static void buf_put(buffer *b, const void *bytes, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

static void buf_u32(buffer *b, uint32_t v)
{
    unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v};
    buf_put(b, be, sizeof be);
}

/* A field: 4-byte big-endian length, then the bytes; NULL is the length 0xFFFFFFFF alone, so
 * NULL, "" and every string differ. */
static void frame_bytes(buffer *b, const void *bytes, size_t n)
{
    if (n >= NULL_FRAME) {
        b->failed = true;
        return;
    }
    buf_u32(b, (uint32_t)n);
    buf_put(b, bytes, n);
}

static void frame_text(buffer *b, const char *text)
{
    if (text == NULL)
        buf_u32(b, NULL_FRAME);
    else
        frame_bytes(b, text, strlen(text));
}

/* A signed 64-bit integer: a field of 8 bytes, big-endian two's complement. */
static void frame_int(buffer *b, int64_t v)
{
    uint64_t u = (uint64_t)v;
    unsigned char be[8];
    for (int i = 7; i >= 0; i--) {
        be[i] = (unsigned char)u;
        u >>= 8;
    }
    frame_bytes(b, be, sizeof be);
}

static bool unhex32(const char *hex, unsigned char out[32])
{
    if (hex == NULL || strlen(hex) != 64)
        return false;
    for (size_t i = 0; i < 32; i++) {
        unsigned v = 0;
        for (size_t j = 0; j < 2; j++) {
            char c = hex[2 * i + j];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else
                return false;
        }
        out[i] = (unsigned char)v;
    }
    return true;
}

static void hex32(const unsigned char in[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0F];
    }
    out[64] = '\0';
}

/* hash = HMAC(chain key, prev_hash (32 bytes) || canonical(record)). False when prev_hash is not
 * 64 hex digits or memory ran out. */
static bool record_hash(const unsigned char chain_key[PMS_KEY_BYTES], const pms_audit_record *r,
                        char out[65])
{
    unsigned char prev[32];
    if (!unhex32(r->prev_hash, prev))
        return false;
    buffer b = {0};
    buf_put(&b, prev, sizeof prev);
    frame_text(&b, RECORD_TAG);
    frame_int(&b, r->seq);
    frame_int(&b, r->at);
    frame_text(&b, r->account_id);
    frame_text(&b, r->actor_key_id);
    frame_text(&b, r->actor_role);
    frame_text(&b, r->action);
    frame_text(&b, r->resource);
    frame_text(&b, r->patient_ids);
    frame_text(&b, r->client_addr);
    frame_int(&b, r->outcome);
    frame_text(&b, r->key_id);
    unsigned char mac[PMS_HMAC_BYTES];
    bool ok =
        !b.failed && pms_hmac_sha256(chain_key, PMS_KEY_BYTES, b.data, b.len, mac, NULL) == PMS_OK;
    free(b.data);
    if (ok)
        hex32(mac, out);
    return ok;
}

/* The head's MAC: HMAC(chain key, frame(tag) frame(seq) frame(hash bytes) frame(key id)). */
static bool head_mac(const unsigned char chain_key[PMS_KEY_BYTES], const pms_audit_head *h,
                     char out[65])
{
    unsigned char hash[32];
    if (!unhex32(h->hash, hash))
        return false;
    buffer b = {0};
    frame_text(&b, HEAD_TAG);
    frame_int(&b, h->seq);
    frame_bytes(&b, hash, sizeof hash);
    frame_text(&b, h->key_id);
    unsigned char mac[PMS_HMAC_BYTES];
    bool ok =
        !b.failed && pms_hmac_sha256(chain_key, PMS_KEY_BYTES, b.data, b.len, mac, NULL) == PMS_OK;
    free(b.data);
    if (ok)
        hex32(mac, out);
    return ok;
}

static bool hex_equal(const char *a, const char *b)
{
    return a != NULL && b != NULL && strlen(a) == 64 && strlen(b) == 64 &&
           CRYPTO_memcmp(a, b, 64) == 0;
}

/* ---- checking events ------------------------------------------------------------------- */

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

static int check_text(const char *what, const char *value, bool required, size_t max,
                      pms_error *err)
{
    if (value == NULL)
        return required ? pms_error_set(err, PMS_ERR_INVALID, "an audit event needs %s", what)
                        : PMS_OK;
    size_t len = strlen(value);
    if ((required && len == 0) || len > max)
        return pms_error_set(err, PMS_ERR_INVALID, "an audit event's %s must be 1 to %zu bytes",
                             what, max);
    if (has_control(value))
        return pms_error_set(err, PMS_ERR_INVALID,
                             "an audit event's %s must not contain control characters", what);
    return PMS_OK;
}

static bool valid_role(const char *role)
{
    return role && (strcmp(role, "admin") == 0 || strcmp(role, "staff") == 0 ||
                    strcmp(role, "agent") == 0 || strcmp(role, "system") == 0);
}

static bool valid_action(const char *action)
{
    for (const char *p = action; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
              *p == '-'))
            return false;
    return true;
}

/* Checks an event and returns its patient ids as compact JSON text (a new string). */
static int check_event(const pms_audit_event *e, char **patients_out, pms_error *err)
{
    *patients_out = NULL;
    int rc;
    if (e == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no audit event");
    if (!valid_role(e->actor_role))
        return pms_error_set(err, PMS_ERR_INVALID,
                             "an audit event's actor role must be admin, staff, agent or system");
    if ((rc = check_text("action", e->action, true, PMS_AUDIT_ACTION_MAX, err)) != PMS_OK ||
        (rc = check_text("resource", e->resource, true, PMS_AUDIT_RESOURCE_MAX, err)) != PMS_OK ||
        (rc = check_text("account id", e->account_id, false, PMS_AUDIT_ID_MAX, err)) != PMS_OK ||
        (rc = check_text("actor key id", e->actor_key_id, false, PMS_AUDIT_ID_MAX, err)) !=
            PMS_OK ||
        (rc = check_text("client address", e->client_addr, false, PMS_AUDIT_ADDR_MAX, err)) !=
            PMS_OK)
        return rc;
    if (!valid_action(e->action))
        return pms_error_set(err, PMS_ERR_INVALID,
                             "an audit event's action may hold lower-case letters, digits, '.', "
                             "'_' and '-' only");
    if (e->outcome != 0 && (e->outcome < 100 || e->outcome > 599))
        return pms_error_set(err, PMS_ERR_INVALID,
                             "an audit event's outcome must be an HTTP status or 0");
    if (e->patient_ids != NULL) {
        if (!json_is_array(e->patient_ids) ||
            json_array_size(e->patient_ids) > PMS_AUDIT_PATIENTS_COUNT)
            return pms_error_set(err, PMS_ERR_INVALID,
                                 "an audit event's patient ids must be an array of at most %d "
                                 "strings",
                                 PMS_AUDIT_PATIENTS_COUNT);
        size_t i;
        const json_t *id;
        json_array_foreach(e->patient_ids, i, id)
        {
            if (!json_is_string(id) || json_string_length(id) == 0 ||
                json_string_length(id) > PMS_AUDIT_PATIENT_MAX ||
                strlen(json_string_value(id)) != json_string_length(id) ||
                has_control(json_string_value(id)))
                return pms_error_set(err, PMS_ERR_INVALID,
                                     "an audit event's patient id %zu must be 1 to %d bytes of "
                                     "text",
                                     i, PMS_AUDIT_PATIENT_MAX);
        }
    }
    *patients_out = e->patient_ids ? json_dumps(e->patient_ids, JSON_COMPACT) : strdup("[]");
    if (*patients_out == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

/* ---- appending ------------------------------------------------------------------------- */

/* Checks that the head is the one the last append wrote. */
static int check_head(const pms_keyring *ring, const pms_audit_head *head,
                      const unsigned char primary_key[PMS_KEY_BYTES], const char *primary_id,
                      pms_error *err)
{
    if (head->seq == 0 && head->key_id[0] == '\0' && head->mac[0] == '\0' &&
        strcmp(head->hash, zero_hash) == 0)
        return PMS_OK; /* the empty log */
    if (head->seq <= 0 || head->key_id[0] == '\0' || head->mac[0] == '\0')
        return pms_error_set(err, PMS_ERR_CRYPTO,
                             "the audit log's head is not signed; run 'pmsctl audit verify'");
    unsigned char other_key[PMS_KEY_BYTES];
    const unsigned char *key = primary_key;
    if (strcmp(head->key_id, primary_id) != 0) {
        pms_error derive_err = {0};
        if (pms_keyring_derive(ring, head->key_id, PMS_AUDIT_KEY_LABEL, other_key, NULL,
                               &derive_err) != PMS_OK)
            return pms_error_set(err, PMS_ERR_CRYPTO,
                                 "the audit log's head was signed with key %.32s, which is not in "
                                 "the key ring; run 'pmsctl audit verify'",
                                 head->key_id);
        key = other_key;
    }
    char want[65];
    bool ok = head_mac(key, head, want) && hex_equal(want, head->mac);
    OPENSSL_cleanse(other_key, sizeof other_key);
    if (!ok)
        return pms_error_set(err, PMS_ERR_CRYPTO,
                             "the audit log's head does not verify (it was changed); run "
                             "'pmsctl audit verify'");
    return PMS_OK;
}

/* Chains one record onto the head under the primary key and moves the head. Runs inside the
 * caller's write transaction. */
static int append_locked(pms_store *st, const pms_keyring *ring, const pms_audit_event *e,
                         const char *patients, bool check_old_head, long long *seq_out,
                         pms_error *err)
{
    unsigned char key[PMS_KEY_BYTES];
    char key_id[PMS_KEY_ID_LEN];
    pms_audit_head head;
    int rc = pms_keyring_derive(ring, NULL, PMS_AUDIT_KEY_LABEL, key, key_id, err);
    if (rc != PMS_OK)
        return rc;
    if ((rc = st->ops->audit_head_get(st, &head, err)) != PMS_OK)
        goto out;
    if (check_old_head && (rc = check_head(ring, &head, key, key_id, err)) != PMS_OK)
        goto out;
    char hash[65];
    pms_audit_record r = {
        .seq = head.seq + 1,
        .at = e->at != PMS_INSTANT_NONE && e->at != 0 ? e->at : pms_now(),
        .account_id = e->account_id,
        .actor_key_id = e->actor_key_id,
        .actor_role = e->actor_role,
        .action = e->action,
        .resource = e->resource,
        .patient_ids = patients,
        .client_addr = e->client_addr,
        .outcome = e->outcome,
        .key_id = key_id,
        .prev_hash = head.hash,
        .hash = hash,
    };
    if (!record_hash(key, &r, hash)) {
        rc = pms_error_set(err, PMS_ERR_CRYPTO, "the audit log's head hash is damaged");
        goto out;
    }
    if ((rc = st->ops->audit_insert(st, &r, err)) != PMS_OK) {
        /* Inside the write transaction a conflict is the seq being taken, not a busy database. */
        if (rc == PMS_ERR_CONFLICT)
            rc = pms_error_set(err, PMS_ERR_CRYPTO,
                               "the audit log holds records beyond its head (it was changed); "
                               "run 'pmsctl audit verify'");
        goto out;
    }
    pms_audit_head next = {.seq = r.seq};
    memcpy(next.hash, hash, sizeof next.hash);
    memcpy(next.key_id, key_id, sizeof next.key_id);
    if (!head_mac(key, &next, next.mac)) {
        rc = pms_error_set(err, PMS_ERR_CRYPTO, "cannot sign the audit log's head");
        goto out;
    }
    if ((rc = st->ops->audit_head_set(st, &next, err)) != PMS_OK)
        goto out;
    if (seq_out)
        *seq_out = r.seq;
out:
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

int pms_audit_append_tx(pms_store *st, const pms_keyring *ring, const pms_audit_event *event,
                        long long *seq_out, pms_error *err)
{
    if (seq_out)
        *seq_out = 0;
    char *patients = NULL;
    int rc = check_event(event, &patients, err);
    if (rc == PMS_OK && ring == NULL)
        rc = pms_error_set(err, PMS_ERR_CONFIG,
                           "no key for the audit log (set PMSYNC_SECRET_KEY or "
                           "PMSYNC_SECRET_KEY_FILE)");
    if (rc == PMS_OK)
        rc = append_locked(st, ring, event, patients, true, seq_out, err);
    free(patients);
    if (rc != PMS_OK)
        pms_error_prefix(err, "cannot write the audit record");
    return rc;
}

int pms_audit_append(pms_store *st, const pms_keyring *ring, const pms_audit_event *event,
                     pms_error *err)
{
    int rc = st->ops->begin(st, err);
    if (rc != PMS_OK) {
        pms_error_prefix(err, "cannot write the audit record");
        return rc;
    }
    if ((rc = pms_audit_append_tx(st, ring, event, NULL, err)) != PMS_OK) {
        st->ops->rollback(st);
        return rc;
    }
    if ((rc = st->ops->commit(st, err)) != PMS_OK) {
        st->ops->rollback(st);
        pms_error_prefix(err, "cannot write the audit record");
    }
    return rc;
}

/* ---- verifying ------------------------------------------------------------------------- */

typedef struct cached_key {
    char id[PMS_KEY_ID_LEN];
    bool present;
    unsigned char key[PMS_KEY_BYTES];
} cached_key;

typedef struct verify_ctx {
    const pms_keyring *ring;
    cached_key cache[KEY_CACHE_SIZE];
    size_t cached;
    long long expected_seq;
    char prev_hash[65];
    pms_audit_report *report;
} verify_ctx;

/* The chain key of a key id, or NULL when the ring does not hold it. */
static const unsigned char *chain_key(verify_ctx *v, const char *key_id)
{
    if (key_id == NULL)
        return NULL;
    for (size_t i = 0; i < v->cached; i++)
        if (strcmp(v->cache[i].id, key_id) == 0)
            return v->cache[i].present ? v->cache[i].key : NULL;
    cached_key *slot = &v->cache[v->cached < KEY_CACHE_SIZE ? v->cached++ : KEY_CACHE_SIZE - 1];
    snprintf(slot->id, sizeof slot->id, "%s", key_id);
    slot->present = v->ring != NULL && pms_keyring_derive(v->ring, key_id, PMS_AUDIT_KEY_LABEL,
                                                          slot->key, NULL, NULL) == PMS_OK;
    return slot->present ? slot->key : NULL;
}

static void problem(pms_audit_report *r, pms_audit_problem p, long long seq, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(pms_audit_report *r, pms_audit_problem p, long long seq, const char *fmt, ...)
{
    r->intact = false;
    if (r->first_problem != PMS_AUDIT_OK)
        return;
    r->first_problem = p;
    r->first_bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

static int verify_record(void *ctx, const pms_audit_record *rec)
{
    verify_ctx *v = ctx;
    pms_audit_report *r = v->report;
    r->records++;
    r->last_seq = rec->seq;
    if (rec->seq > v->expected_seq) {
        r->missing += rec->seq - v->expected_seq;
        if (rec->seq - v->expected_seq == 1)
            problem(r, PMS_AUDIT_MISSING, v->expected_seq, "record %lld is missing",
                    v->expected_seq);
        else
            problem(r, PMS_AUDIT_MISSING, v->expected_seq, "records %lld to %lld are missing",
                    v->expected_seq, rec->seq - 1);
    } else if (!hex_equal(rec->prev_hash, v->prev_hash)) {
        r->broken_links++;
        problem(r, PMS_AUDIT_BROKEN_LINK, rec->seq,
                "record %lld does not link to the record before it", rec->seq);
    }
    const unsigned char *key = chain_key(v, rec->key_id);
    char want[65];
    if (key == NULL) {
        r->unverifiable++;
        problem(r, PMS_AUDIT_MISSING_KEY, rec->seq,
                "record %lld was chained with key %.32s, which is not in the key ring", rec->seq,
                rec->key_id ? rec->key_id : "(none)");
    } else if (record_hash(key, rec, want) && hex_equal(want, rec->hash)) {
        r->verified++;
    } else {
        r->altered++;
        problem(r, PMS_AUDIT_ALTERED, rec->seq,
                "record %lld does not match its hash: it was changed", rec->seq);
    }
    snprintf(v->prev_hash, sizeof v->prev_hash, "%s", rec->hash ? rec->hash : "");
    v->expected_seq = rec->seq + 1;
    return PMS_OK;
}

static void verify_head(verify_ctx *v)
{
    pms_audit_report *r = v->report;
    const pms_audit_head *h = &r->head;
    bool empty_head =
        h->seq == 0 && h->key_id[0] == '\0' && h->mac[0] == '\0' && strcmp(h->hash, zero_hash) == 0;
    if (h->seq > r->last_seq) {
        r->missing += h->seq - r->last_seq;
        problem(r, PMS_AUDIT_TRUNCATED, r->last_seq + 1,
                "the head names record %lld but the log ends at %lld: records were removed from "
                "the end",
                h->seq, r->last_seq);
        return;
    }
    if (h->seq < r->last_seq) {
        problem(r, PMS_AUDIT_BAD_HEAD, h->seq + 1,
                "records %lld to %lld come after the head: the head was rolled back or records "
                "were added without the key",
                h->seq + 1, r->last_seq);
        return;
    }
    if (empty_head && r->records == 0) {
        r->head_ok = true;
        return;
    }
    if (!hex_equal(h->hash, v->prev_hash)) {
        problem(r, PMS_AUDIT_BAD_HEAD, h->seq, "the head's hash is not record %lld's hash", h->seq);
        return;
    }
    if (h->key_id[0] == '\0' || h->mac[0] == '\0') {
        problem(r, PMS_AUDIT_BAD_HEAD, h->seq, "the head is not signed");
        return;
    }
    const unsigned char *key = chain_key(v, h->key_id);
    char want[65];
    if (key == NULL)
        problem(r, PMS_AUDIT_MISSING_KEY, h->seq,
                "the head was signed with key %.32s, which is not in the key ring", h->key_id);
    else if (!head_mac(key, h, want) || !hex_equal(want, h->mac))
        problem(r, PMS_AUDIT_BAD_HEAD, h->seq,
                "the head's MAC does not verify: it was rewritten without the key");
    else
        r->head_ok = true;
}

int pms_audit_verify(pms_store *st, const pms_keyring *ring, pms_audit_report *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    out->intact = true;
    verify_ctx *v = calloc(1, sizeof *v);
    if (v == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    v->ring = ring;
    v->expected_seq = 1;
    memcpy(v->prev_hash, zero_hash, sizeof v->prev_hash);
    v->report = out;
    int rc = st->ops->audit_walk(st, PMS_INSTANT_NONE, PMS_INSTANT_NONE, &out->head, verify_record,
                                 v, err);
    if (rc == PMS_OK)
        verify_head(v);
    else
        pms_error_prefix(err, "cannot read the audit log");
    out->intact = rc == PMS_OK && out->first_problem == PMS_AUDIT_OK;
    pms_secure_free(v, sizeof *v);
    return rc;
}

/* ---- exporting ------------------------------------------------------------------------- */

json_t *pms_audit_record_to_json(const pms_audit_record *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(r->seq));
    json_object_set_new(o, "at", pms_json_instant_or_null(r->at));
    json_object_set_new(o, "accountId", pms_json_string_or_null(r->account_id));
    json_object_set_new(o, "actorKeyId", pms_json_string_or_null(r->actor_key_id));
    json_object_set_new(o, "actorRole", pms_json_string_or_null(r->actor_role));
    json_object_set_new(o, "action", pms_json_string_or_null(r->action));
    json_object_set_new(o, "resource", pms_json_string_or_null(r->resource));
    json_t *patients = r->patient_ids ? json_loads(r->patient_ids, 0, NULL) : NULL;
    json_object_set_new(o, "patientIds", json_is_array(patients) ? patients : json_array());
    if (patients && !json_is_array(patients))
        json_decref(patients);
    json_object_set_new(o, "clientAddr", pms_json_string_or_null(r->client_addr));
    json_object_set_new(o, "outcome", json_integer(r->outcome));
    json_object_set_new(o, "keyId", pms_json_string_or_null(r->key_id));
    json_object_set_new(o, "prevHash", pms_json_string_or_null(r->prev_hash));
    json_object_set_new(o, "hash", pms_json_string_or_null(r->hash));
    return o;
}

typedef struct export_ctx {
    FILE *out;
    long long count;
    pms_error *err;
} export_ctx;

static int export_record(void *ctx, const pms_audit_record *r)
{
    export_ctx *x = ctx;
    json_t *o = pms_audit_record_to_json(r);
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (line == NULL)
        return pms_error_set(x->err, PMS_ERR_NOMEM, "out of memory");
    int written = fprintf(x->out, "%s\n", line);
    free(line);
    if (written < 0)
        return pms_error_set(x->err, PMS_ERR_IO, "cannot write the export");
    x->count++;
    return PMS_OK;
}

int pms_audit_export_count(pms_store *st, pms_instant from, pms_instant to, FILE *out,
                           long long *count, pms_error *err)
{
    if (count)
        *count = 0;
    if (out == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no output for the export");
    export_ctx x = {out, 0, err};
    int rc = st->ops->audit_walk(st, from, to, NULL, export_record, &x, err);
    if (rc == PMS_OK && fflush(out) != 0)
        rc = pms_error_set(err, PMS_ERR_IO, "cannot write the export");
    if (count)
        *count = x.count;
    return rc;
}

int pms_audit_export(pms_store *st, pms_instant from, pms_instant to, FILE *out, pms_error *err)
{
    return pms_audit_export_count(st, from, to, out, NULL, err);
}

/* ---- resealing ------------------------------------------------------------------------- */

typedef struct last_record {
    long long seq;
    char hash[65];
} last_record;

static int remember_last(void *ctx, const pms_audit_record *r)
{
    last_record *last = ctx;
    last->seq = r->seq;
    snprintf(last->hash, sizeof last->hash, "%s", r->hash ? r->hash : "");
    return PMS_OK;
}

int pms_audit_reseal(pms_store *st, const pms_keyring *ring, pms_error *err)
{
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG, "no key for the audit log");
    int rc = st->ops->begin(st, err);
    if (rc != PMS_OK)
        return rc;
    pms_audit_head old;
    last_record last = {0, ""};
    memcpy(last.hash, zero_hash, sizeof last.hash);
    unsigned char key[PMS_KEY_BYTES];
    char key_id[PMS_KEY_ID_LEN];
    char resource[160];
    if ((rc = st->ops->audit_walk(st, PMS_INSTANT_NONE, PMS_INSTANT_NONE, &old, remember_last,
                                  &last, err)) != PMS_OK ||
        (rc = pms_keyring_derive(ring, NULL, PMS_AUDIT_KEY_LABEL, key, key_id, err)) != PMS_OK)
        goto out;
    pms_audit_head head = {.seq = last.seq};
    memcpy(head.hash, last.hash, sizeof head.hash);
    memcpy(head.key_id, key_id, sizeof head.key_id);
    bool signed_ok = head_mac(key, &head, head.mac);
    OPENSSL_cleanse(key, sizeof key);
    if (!signed_ok) {
        rc = pms_error_set(err, PMS_ERR_CRYPTO, "the last audit record's hash is damaged");
        goto out;
    }
    if ((rc = st->ops->audit_head_set(st, &head, err)) != PMS_OK)
        goto out;
    snprintf(resource, sizeof resource, "audit_head?replaced_seq=%lld&resealed_seq=%lld", old.seq,
             last.seq);
    pms_audit_event e = {
        .actor_role = "system",
        .action = "audit.reseal",
        .resource = resource,
        .at = PMS_INSTANT_NONE,
    };
    char *patients = strdup("[]");
    rc = patients ? append_locked(st, ring, &e, patients, false, NULL, err)
                  : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(patients);
    if (rc == PMS_OK)
        rc = st->ops->commit(st, err);
out:
    if (rc != PMS_OK)
        st->ops->rollback(st);
    return rc;
}
