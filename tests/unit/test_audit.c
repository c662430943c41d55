/* The audit log: appends from many threads with no gaps or duplicates; edits, removals and a
 * truncated tail found by verify, with or without a rewritten head; verification across a key
 * rotation; export boundaries; the documented encoding, recomputed here independently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/audit.h"
#include "pmsync/tz.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;
    char db_path[512];
    pms_store *st;
    pms_keyring *ring; /* key A */
} fixture;

static const unsigned char key_a[PMS_KEY_BYTES] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                   12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                   23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const unsigned char key_b[PMS_KEY_BYTES] = {
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->db_path, sizeof f->db_path, "%s/pmsync.db", f->dir);
    f->st = tu_open_store(f->dir);
    assert_int_equal(pms_keyring_from_raw(key_a, &f->ring, NULL), PMS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pms_keyring_free(f->ring);
    pms_store_close(f->st);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void append(pms_store *st, const pms_keyring *ring, const char *resource, pms_instant at)
{
    json_t *patients = json_pack("[s, s]", "pt-1001", "pt-2002");
    pms_audit_event e = {
        .account_id = PMS_DEFAULT_ACCOUNT_ID,
        .actor_key_id = "key-123",
        .actor_role = "staff",
        .action = "runsheet.read",
        .resource = resource,
        .patient_ids = patients,
        .client_addr = "203.0.113.7",
        .outcome = 200,
        .at = at,
    };
    pms_error err = {0};
    int rc = pms_audit_append(st, ring, &e, &err);
    json_decref(patients);
    if (rc != PMS_OK)
        fail_msg("append failed: %s", err.message);
}

static void append_n(fixture *f, const pms_keyring *ring, int n)
{
    for (int i = 0; i < n; i++) {
        char resource[64];
        snprintf(resource, sizeof resource, "/api/run-sheet?date=2026-03-%02d", i % 28 + 1);
        append(f->st, ring, resource, PMS_INSTANT_NONE);
    }
}

static pms_audit_report verify(fixture *f, const pms_keyring *ring)
{
    pms_audit_report r;
    pms_error err = {0};
    if (pms_audit_verify(f->st, ring, &r, &err) != PMS_OK)
        fail_msg("verify failed: %s", err.message);
    return r;
}

static void assert_intact(fixture *f, long long records)
{
    pms_audit_report r = verify(f, f->ring);
    if (!r.intact)
        fail_msg("not intact: seq %lld: %s", r.first_bad_seq, r.reason);
    assert_int_equal(r.records, records);
    assert_int_equal(r.verified, records);
    assert_int_equal(r.first_problem, PMS_AUDIT_OK);
    assert_int_equal(r.first_bad_seq, 0);
    assert_true(r.head_ok);
    assert_int_equal(r.head.seq, records);
}

/* Raw SQL as someone with the database file would run it: the triggers go first. */
static void tamper(fixture *f, const char *sql)
{
    assert_int_equal(tu_sqlite_exec(f->db_path, "DROP TRIGGER IF EXISTS audit_log_no_update;"
                                                "DROP TRIGGER IF EXISTS audit_log_no_delete;"),
                     SQLITE_OK);
    int rc = tu_sqlite_exec(f->db_path, sql);
    if (rc != SQLITE_OK)
        fail_msg("tampering failed (%d): %s", rc, sql);
}

/* ---- appending ------------------------------------------------------------------------- */

static void empty_log_is_intact(void **state)
{
    fixture *f = *state;
    assert_intact(f, 0);
    pms_audit_report r = verify(f, NULL); /* nothing to check, no key needed */
    assert_true(r.intact);
}

typedef struct worker {
    const char *dir;
    const pms_keyring *ring;
    int index;
    int count;
} worker;

static void *append_from_thread(void *arg)
{
    worker *w = arg;
    pms_store *st = tu_open_store(w->dir); /* a handle per thread */
    for (int i = 0; i < w->count; i++) {
        char resource[64];
        snprintf(resource, sizeof resource, "thread-%d/%d", w->index, i);
        append(st, w->ring, resource, PMS_INSTANT_NONE);
    }
    pms_store_close(st);
    return NULL;
}

static void appends_from_many_threads_leave_no_gaps(void **state)
{
    fixture *f = *state;
    enum { THREADS = 6, EACH = 40 };
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){f->dir, f->ring, i, EACH};
        assert_int_equal(pthread_create(&threads[i], NULL, append_from_thread, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    long total = THREADS * EACH;
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM audit_log"), total);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(DISTINCT seq) FROM audit_log"),
                     total);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT MIN(seq) FROM audit_log"), 1);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT MAX(seq) FROM audit_log"), total);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(DISTINCT hash) FROM audit_log"),
                     total);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(DISTINCT resource) FROM audit_log"),
                     total);
    for (int i = 0; i < THREADS; i++) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM audit_log WHERE resource LIKE 'thread-%d/%%'", i);
        assert_int_equal(tu_sqlite_count(f->db_path, sql), EACH);
    }
    assert_intact(f, total);
}

static void bad_events_are_refused_and_nothing_is_written(void **state)
{
    fixture *f = *state;
    json_t *not_strings = json_pack("[i]", 5);
    json_t *not_array = json_pack("{s:s}", "id", "pt-1");
    json_t *empty_id = json_pack("[s]", "");
    char long_resource[PMS_AUDIT_RESOURCE_MAX + 2];
    memset(long_resource, 'r', sizeof long_resource - 1);
    long_resource[sizeof long_resource - 1] = '\0';
    const pms_audit_event good = {.actor_role = "agent",
                                  .action = "patient.search",
                                  .resource = "/tools/patient-search",
                                  .outcome = 200};
    pms_audit_event bad[10];
    for (size_t i = 0; i < 10; i++)
        bad[i] = good;
    bad[0].actor_role = "root";
    bad[1].actor_role = NULL;
    bad[2].action = "Patient Search";
    bad[3].action = "";
    bad[4].resource = "/a\nforged line";
    bad[5].resource = long_resource;
    bad[6].outcome = 42;
    bad[7].patient_ids = not_strings;
    bad[8].patient_ids = not_array;
    bad[9].patient_ids = empty_id;
    for (size_t i = 0; i < 10; i++) {
        pms_error err = {0};
        assert_int_equal(pms_audit_append(f->st, f->ring, &bad[i], &err), PMS_ERR_INVALID);
        assert_non_null(strstr(err.message, "cannot write the audit record"));
    }
    pms_error err = {0};
    assert_int_equal(pms_audit_append(f->st, NULL, &good, &err), PMS_ERR_CONFIG);
    assert_int_equal(pms_audit_append(f->st, f->ring, NULL, &err), PMS_ERR_INVALID);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM audit_log"), 0);
    /* inside a caller's transaction, rolled back with it */
    assert_int_equal(f->st->ops->begin(f->st, &err), PMS_OK);
    long long seq = 0;
    assert_int_equal(pms_audit_append_tx(f->st, f->ring, &good, &seq, &err), PMS_OK);
    assert_int_equal(seq, 1);
    f->st->ops->rollback(f->st);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM audit_log"), 0);
    assert_int_equal(pms_audit_append(f->st, f->ring, &good, &err), PMS_OK);
    assert_intact(f, 1);
    json_decref(not_strings);
    json_decref(not_array);
    json_decref(empty_id);
}

/* ---- tampering ------------------------------------------------------------------------- */

static void an_edited_field_is_reported_at_its_seq(void **state)
{
    fixture *f = *state;
    append_n(f, f->ring, 10);
    assert_intact(f, 10);
    /* each column, changed and then put back */
    const char *edits[][2] = {
        {"UPDATE audit_log SET resource = '/api/run-sheet?date=2026-01-01' WHERE seq = 7",
         "UPDATE audit_log SET resource = '/api/run-sheet?date=2026-03-07' WHERE seq = 7"},
        {"UPDATE audit_log SET patient_ids = '[\"pt-1001\"]' WHERE seq = 7",
         "UPDATE audit_log SET patient_ids = '[\"pt-1001\",\"pt-2002\"]' WHERE seq = 7"},
        {"UPDATE audit_log SET at = at + 1 WHERE seq = 7",
         "UPDATE audit_log SET at = at - 1 WHERE seq = 7"},
        {"UPDATE audit_log SET outcome = 403 WHERE seq = 7",
         "UPDATE audit_log SET outcome = 200 WHERE seq = 7"},
        {"UPDATE audit_log SET actor_role = 'admin' WHERE seq = 7",
         "UPDATE audit_log SET actor_role = 'staff' WHERE seq = 7"},
        {"UPDATE audit_log SET client_addr = NULL WHERE seq = 7",
         "UPDATE audit_log SET client_addr = '203.0.113.7' WHERE seq = 7"},
        {"UPDATE audit_log SET actor_key_id = '' WHERE seq = 7",
         "UPDATE audit_log SET actor_key_id = 'key-123' WHERE seq = 7"},
        {"UPDATE audit_log SET hash = prev_hash WHERE seq = 7", NULL},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        tamper(f, edits[i][0]);
        pms_audit_report r = verify(f, f->ring);
        assert_false(r.intact);
        assert_int_equal(r.first_bad_seq, 7);
        assert_true(r.first_problem == PMS_AUDIT_ALTERED);
        assert_true(r.altered >= 1);
        assert_non_null(strstr(r.reason, "7"));
        if (edits[i][1] != NULL) {
            assert_int_equal(r.altered, 1); /* only that record: the rest still verify */
            assert_int_equal(r.verified, 9);
            tamper(f, edits[i][1]);
            assert_intact(f, 10);
        }
    }
}

static void a_removed_record_is_reported(void **state)
{
    fixture *f = *state;
    append_n(f, f->ring, 10);
    tamper(f, "DELETE FROM audit_log WHERE seq = 5");
    pms_audit_report r = verify(f, f->ring);
    assert_false(r.intact);
    assert_int_equal(r.first_problem, PMS_AUDIT_MISSING);
    assert_int_equal(r.first_bad_seq, 5);
    assert_int_equal(r.missing, 1);
    assert_int_equal(r.records, 9);
    assert_int_equal(r.verified, 9);
    assert_true(r.head_ok);

    /* removed and the rest renumbered: the chain breaks at the renumbered record */
    tamper(f, "UPDATE audit_log SET seq = seq - 1 WHERE seq > 5");
    assert_int_equal(tu_sqlite_exec(f->db_path, "UPDATE audit_head SET seq = 9, hash = (SELECT "
                                                "hash FROM audit_log WHERE seq = 9)"),
                     SQLITE_OK);
    r = verify(f, f->ring);
    assert_false(r.intact);
    assert_int_equal(r.first_bad_seq, 5);
    assert_int_equal(r.first_problem, PMS_AUDIT_BROKEN_LINK);
}

static void a_removed_tail_is_reported(void **state)
{
    fixture *f = *state;
    append_n(f, f->ring, 10);
    tamper(f, "DELETE FROM audit_log WHERE seq > 7");
    pms_audit_report r = verify(f, f->ring);
    assert_false(r.intact);
    assert_int_equal(r.first_problem, PMS_AUDIT_TRUNCATED);
    assert_int_equal(r.first_bad_seq, 8);
    assert_int_equal(r.missing, 3);
    assert_int_equal(r.records, 7);
    assert_int_equal(r.verified, 7);
    assert_int_equal(r.head.seq, 10);
    /* appending does not hide it: the next record is 11, and 8 to 10 stay missing */
    append_n(f, f->ring, 1);
    r = verify(f, f->ring);
    assert_false(r.intact);
    assert_int_equal(r.first_problem, PMS_AUDIT_MISSING);
    assert_int_equal(r.first_bad_seq, 8);
    assert_int_equal(r.missing, 3);
    assert_true(r.head_ok);
}

static void a_removed_tail_with_a_rewritten_head_is_reported(void **state)
{
    fixture *f = *state;
    append_n(f, f->ring, 10);
    tamper(f, "DELETE FROM audit_log WHERE seq > 7");
    /* the head made to name record 7, keeping its old MAC (no key to make a new one) */
    assert_int_equal(tu_sqlite_exec(f->db_path, "UPDATE audit_head SET seq = 7, hash = (SELECT "
                                                "hash FROM audit_log WHERE seq = 7)"),
                     SQLITE_OK);
    pms_audit_report r = verify(f, f->ring);
    assert_false(r.intact);
    assert_false(r.head_ok);
    assert_int_equal(r.first_problem, PMS_AUDIT_BAD_HEAD);
    assert_int_equal(r.first_bad_seq, 7);
    assert_int_equal(r.verified, 7);
    assert_non_null(strstr(r.reason, "MAC"));

    /* a MAC from another key, or none, does no better */
    const char *heads[] = {"UPDATE audit_head SET mac = NULL", "UPDATE audit_head SET mac = hash",
                           "UPDATE audit_head SET key_id = 'ffffffffffffffff'"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(tu_sqlite_exec(f->db_path, heads[i]), SQLITE_OK);
        r = verify(f, f->ring);
        assert_false(r.intact);
        assert_false(r.head_ok);
    }
    assert_int_equal(r.first_problem, PMS_AUDIT_MISSING_KEY);

    /* and appends refuse to extend (and so bless) a head that does not verify */
    pms_audit_event e = {.actor_role = "system", .action = "sync.write", .resource = "x"};
    pms_error err = {0};
    assert_int_equal(pms_audit_append(f->st, f->ring, &e, &err), PMS_ERR_CRYPTO);
    assert_non_null(strstr(err.message, "pmsctl audit verify"));
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM audit_log"), 7);

    /* a reseal, after looking into it, lets appends go on and says what it replaced */
    assert_int_equal(pms_audit_reseal(f->st, f->ring, &err), PMS_OK);
    append_n(f, f->ring, 2);
    assert_intact(f, 10);
    assert_int_equal(tu_sqlite_count(f->db_path,
                                     "SELECT seq FROM audit_log WHERE action = 'audit.reseal' AND "
                                     "resource = 'audit_head?replaced_seq=7&resealed_seq=7'"),
                     8);
}

static void records_beyond_the_head_are_reported(void **state)
{
    fixture *f = *state;
    append_n(f, f->ring, 6);
    /* the head rolled back to record 4 (as if an older valid head had been put back) */
    pms_audit_head h4;
    assert_int_equal(f->st->ops->audit_head_get(f->st, &h4, NULL), PMS_OK);
    assert_int_equal(h4.seq, 6);
    assert_int_equal(
        tu_sqlite_exec(f->db_path,
                       "UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE "
                       "seq = 4)"),
        SQLITE_OK);
    pms_audit_report r = verify(f, f->ring);
    assert_false(r.intact);
    assert_int_equal(r.first_problem, PMS_AUDIT_BAD_HEAD);
    assert_int_equal(r.first_bad_seq, 5);
    /* appending would reuse seq 5: refused */
    pms_audit_event e = {.actor_role = "system", .action = "sync.write", .resource = "x"};
    pms_error err = {0};
    assert_int_not_equal(pms_audit_append(f->st, f->ring, &e, &err), PMS_OK);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM audit_log"), 6);
}

/* ---- keys ------------------------------------------------------------------------------ */

static void the_chain_verifies_across_a_key_rotation(void **state)
{
    fixture *f = *state;
    append_n(f, f->ring, 5);
    /* rotated: B seals and chains, A stays for what it chained */
    pms_keyring *rotated = NULL;
    assert_int_equal(pms_keyring_from_raw(key_b, &rotated, NULL), PMS_OK);
    assert_int_equal(pms_keyring_add_raw(rotated, key_a, NULL), PMS_OK);
    append_n(f, rotated, 5);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(DISTINCT key_id) FROM audit_log"),
                     2);
    pms_audit_report r = verify(f, rotated);
    assert_true(r.intact);
    assert_int_equal(r.verified, 10);
    assert_string_equal(r.head.key_id, pms_keyring_primary_id(rotated));

    /* without B: records 6..10 and the head cannot be checked */
    r = verify(f, f->ring);
    assert_false(r.intact);
    assert_int_equal(r.first_problem, PMS_AUDIT_MISSING_KEY);
    assert_int_equal(r.first_bad_seq, 6);
    assert_int_equal(r.unverifiable, 5);
    assert_int_equal(r.verified, 5);
    assert_non_null(strstr(r.reason, pms_keyring_primary_id(rotated)));
    /* without A: records 1..5 */
    pms_keyring *only_b = NULL;
    assert_int_equal(pms_keyring_from_raw(key_b, &only_b, NULL), PMS_OK);
    r = verify(f, only_b);
    assert_false(r.intact);
    assert_int_equal(r.first_bad_seq, 1);
    assert_int_equal(r.unverifiable, 5);
    assert_true(r.head_ok);
    /* and no ring at all: nothing verifies, nothing is called altered */
    r = verify(f, NULL);
    assert_false(r.intact);
    assert_int_equal(r.unverifiable, 10);
    assert_int_equal(r.altered, 0);
    pms_keyring_free(only_b);
    pms_keyring_free(rotated);
}

/* ---- export ---------------------------------------------------------------------------- */

static pms_instant utc(const char *iso)
{
    pms_instant t;
    assert_int_equal(pms_iso8601_parse(iso, &t, NULL, NULL), PMS_OK);
    return t;
}

static char *export_text(fixture *f, pms_instant from, pms_instant to, long long *count)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    pms_error err = {0};
    assert_int_equal(pms_audit_export_count(f->st, from, to, out, count, &err), PMS_OK);
    fclose(out);
    return text;
}

static void export_is_json_lines_within_bounds(void **state)
{
    fixture *f = *state;
    append(f->st, f->ring, "a", utc("2026-03-01T23:59:59.999Z"));
    append(f->st, f->ring, "b", utc("2026-03-02T00:00:00.000Z"));
    append(f->st, f->ring, "c", utc("2026-03-02T12:00:00.000Z"));
    append(f->st, f->ring, "d", utc("2026-03-02T23:59:59.999Z"));
    append(f->st, f->ring, "e", utc("2026-03-03T00:00:00.000Z"));
    long long count = -1;
    char *text = export_text(f, utc("2026-03-02T00:00:00Z"), utc("2026-03-03T00:00:00Z"), &count);
    assert_int_equal(count, 3);
    const char *want[] = {"b", "c", "d"};
    char *save = NULL;
    int line_no = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        assert_true(line_no < 3);
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        assert_non_null(o);
        assert_int_equal(json_integer_value(json_object_get(o, "seq")), line_no + 2);
        assert_string_equal(json_string_value(json_object_get(o, "resource")), want[line_no]);
        assert_string_equal(json_string_value(json_object_get(o, "action")), "runsheet.read");
        assert_string_equal(json_string_value(json_object_get(o, "actorRole")), "staff");
        assert_string_equal(json_string_value(json_object_get(o, "accountId")),
                            PMS_DEFAULT_ACCOUNT_ID);
        assert_int_equal(json_array_size(json_object_get(o, "patientIds")), 2);
        assert_int_equal(json_integer_value(json_object_get(o, "outcome")), 200);
        assert_int_equal(strlen(json_string_value(json_object_get(o, "hash"))), 64);
        assert_int_equal(strlen(json_string_value(json_object_get(o, "prevHash"))), 64);
        assert_non_null(json_object_get(o, "keyId"));
        assert_non_null(json_object_get(o, "clientAddr"));
        assert_non_null(json_object_get(o, "at"));
        json_decref(o);
        line_no++;
    }
    assert_int_equal(line_no, 3);
    free(text);
    /* open bounds: everything, oldest first; an empty range: nothing */
    text = export_text(f, PMS_INSTANT_NONE, PMS_INSTANT_NONE, &count);
    assert_int_equal(count, 5);
    assert_non_null(strstr(text, "\"seq\":1,"));
    assert_true(strstr(text, "\"seq\":1,") < strstr(text, "\"seq\":5,"));
    free(text);
    text = export_text(f, utc("2026-03-03T00:00:00.001Z"), PMS_INSTANT_NONE, &count);
    assert_int_equal(count, 0);
    assert_string_equal(text, "");
    free(text);
    text = export_text(f, PMS_INSTANT_NONE, utc("2026-03-02T00:00:00Z"), &count);
    assert_int_equal(count, 1);
    free(text);
}

/* ---- the documented encoding ----------------------------------------------------------- */

typedef struct bytes {
    unsigned char data[4096];
    size_t len;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    assert_true(b->len + n <= sizeof b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_len(bytes *b, uint32_t n)
{
    unsigned char be[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                           (unsigned char)(n >> 8), (unsigned char)n};
    put(b, be, 4);
}

static void put_text(bytes *b, const char *s)
{
    if (s == NULL) {
        put_len(b, 0xFFFFFFFFu);
        return;
    }
    put_len(b, (uint32_t)strlen(s));
    put(b, s, strlen(s));
}

static void put_int(bytes *b, int64_t v)
{
    put_len(b, 8);
    for (int shift = 56; shift >= 0; shift -= 8) {
        unsigned char c = (unsigned char)((uint64_t)v >> shift);
        put(b, &c, 1);
    }
}

static void unhex(const char *hex, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
}

static void tohex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

typedef struct check_ctx {
    const pms_keyring *ring;
    int checked;
} check_ctx;

/* docs/audit.md, recomputed: hash = HMAC(K, prev || frames), K = HMAC(key, label). */
static int check_documented_hash(void *ctx, const pms_audit_record *r)
{
    check_ctx *c = ctx;
    unsigned char k[PMS_KEY_BYTES];
    assert_int_equal(pms_keyring_derive(c->ring, r->key_id, "pmsync audit chain v1", k, NULL, NULL),
                     PMS_OK);
    bytes b = {.len = 0};
    unsigned char prev[32];
    unhex(r->prev_hash, prev, 32);
    put(&b, prev, 32);
    put_text(&b, "pmsync.audit.record.v1");
    put_int(&b, r->seq);
    put_int(&b, r->at);
    put_text(&b, r->account_id);
    put_text(&b, r->actor_key_id);
    put_text(&b, r->actor_role);
    put_text(&b, r->action);
    put_text(&b, r->resource);
    put_text(&b, r->patient_ids);
    put_text(&b, r->client_addr);
    put_int(&b, r->outcome);
    put_text(&b, r->key_id);
    unsigned char mac[32];
    assert_int_equal(pms_hmac_sha256(k, sizeof k, b.data, b.len, mac, NULL), PMS_OK);
    char hex[65];
    tohex(mac, 32, hex);
    assert_string_equal(hex, r->hash);
    c->checked++;
    return PMS_OK;
}

static void the_hash_follows_the_documented_encoding(void **state)
{
    fixture *f = *state;
    /* fields that would run together if they were simply joined: "ab"+"c" vs "a"+"bc", NULL vs
     * "" */
    pms_audit_event one = {.account_id = "ab",
                           .actor_key_id = "c",
                           .actor_role = "system",
                           .action = "x",
                           .resource = "r",
                           .at = 1000};
    pms_audit_event two = one;
    two.account_id = "a";
    two.actor_key_id = "bc";
    pms_audit_event three = one;
    three.account_id = NULL;
    three.client_addr = "";
    assert_int_equal(pms_audit_append(f->st, f->ring, &one, NULL), PMS_OK);
    assert_int_equal(pms_audit_append(f->st, f->ring, &two, NULL), PMS_OK);
    assert_int_equal(pms_audit_append(f->st, f->ring, &three, NULL), PMS_OK);
    append_n(f, f->ring, 2);
    check_ctx c = {f->ring, 0};
    pms_audit_head head;
    assert_int_equal(f->st->ops->audit_walk(f->st, PMS_INSTANT_NONE, PMS_INSTANT_NONE, &head,
                                            check_documented_hash, &c, NULL),
                     PMS_OK);
    assert_int_equal(c.checked, 5);

    /* the head's MAC: HMAC(K, frame(tag) frame(seq) frame(hash bytes) frame(key id)) */
    unsigned char k[PMS_KEY_BYTES];
    assert_int_equal(
        pms_keyring_derive(f->ring, head.key_id, "pmsync audit chain v1", k, NULL, NULL), PMS_OK);
    bytes b = {.len = 0};
    put_text(&b, "pmsync.audit.head.v1");
    put_int(&b, head.seq);
    unsigned char hash[32];
    unhex(head.hash, hash, 32);
    put_len(&b, 32);
    put(&b, hash, 32);
    put_text(&b, head.key_id);
    unsigned char mac[32];
    assert_int_equal(pms_hmac_sha256(k, sizeof k, b.data, b.len, mac, NULL), PMS_OK);
    char hex[65];
    tohex(mac, 32, hex);
    assert_string_equal(hex, head.mac);
    assert_int_equal(head.seq, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(empty_log_is_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(appends_from_many_threads_leave_no_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_events_are_refused_and_nothing_is_written, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_edited_field_is_reported_at_its_seq, setup, teardown),
        cmocka_unit_test_setup_teardown(a_removed_record_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(a_removed_tail_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(a_removed_tail_with_a_rewritten_head_is_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(records_beyond_the_head_are_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(the_chain_verifies_across_a_key_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(export_is_json_lines_within_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(the_hash_follows_the_documented_encoding, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pms_crypto_cleanup();
    pms_tz_cleanup();
    return failed;
}
