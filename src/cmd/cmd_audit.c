/* pmsctl audit verify|export|reseal */
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "pmsync/audit.h"

static const char help_text[] =
    "Usage:\n"
    "  pmsctl audit verify [--json]\n"
    "      Checks the whole audit chain: every record against its hash and the one before it,\n"
    "      no seq number missing, and the signed head naming the last record. Exit 0 when the\n"
    "      log is intact, 1 otherwise (the first problem is printed). Prints the head's seq\n"
    "      and hash: keep them somewhere outside this machine to detect a later roll-back.\n"
    "  pmsctl audit export [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "      The records of those UTC days (--to included; either bound may be left out) as JSON\n"
    "      lines on stdout, oldest first. The export is itself recorded in the log.\n"
    "  pmsctl audit reseal --yes\n"
    "      After a reported problem has been looked into: signs a new head at the last record\n"
    "      there is and records that it did, so that writing to the log can go on. Problems\n"
    "      inside the chain stay visible to verify.\n";

static json_t *report_json(const pms_audit_report *r)
{
    json_t *head =
        json_pack("{s:I, s:s, s:s?, s:b}", "seq", (json_int_t)r->head.seq, "hash", r->head.hash,
                  "keyId", r->head.key_id[0] ? r->head.key_id : NULL, "valid", r->head_ok);
    return json_pack(
        "{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:s?, s:o}", "intact", r->intact,
        "records", (json_int_t)r->records, "verified", (json_int_t)r->verified, "altered",
        (json_int_t)r->altered, "missing", (json_int_t)r->missing, "brokenLinks",
        (json_int_t)r->broken_links, "unverifiable", (json_int_t)r->unverifiable, "lastSeq",
        (json_int_t)r->last_seq, "firstProblem", pms_audit_problem_name(r->first_problem),
        "firstBadSeq", (json_int_t)r->first_bad_seq, "reason", r->intact ? NULL : r->reason, "head",
        head);
}

static int verify(cli *c, int argc, char **argv)
{
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return cli_usage_error("audit", "unexpected argument '%s'", argv[i]);
    }
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, false, &failed);
    if (failed)
        return EXIT_FAIL;
    pms_audit_report r;
    pms_error err = {0};
    if (pms_audit_verify(st, ring, &r, &err) != PMS_OK) {
        cli_report("cannot verify the audit log", &err);
        return EXIT_FAIL;
    }
    if (json) {
        cli_print_json(report_json(&r));
    } else {
        if (r.intact)
            printf("Audit log intact: %lld record(s), all verified.\n", r.records);
        else
            printf("Audit log NOT intact: %s (first problem at seq %lld: %s).\n"
                   "Records: %lld read, %lld verified, %lld altered, %lld missing, %lld broken "
                   "link(s), %lld unverifiable.\n",
                   r.reason, r.first_bad_seq, pms_audit_problem_name(r.first_problem), r.records,
                   r.verified, r.altered, r.missing, r.broken_links, r.unverifiable);
        printf("Head: seq %lld, hash %s, key %s (%s).\n", r.head.seq, r.head.hash,
               r.head.key_id[0] ? r.head.key_id : "none",
               r.head_ok ? "signature valid" : "NOT valid");
        if (r.intact)
            printf("Record this head outside this machine: a later verify that shows an older "
                   "head means records were rolled back.\n");
    }
    if (ring == NULL && r.records > 0)
        cli_error("no encryption key: set PMSYNC_SECRET_KEY or PMSYNC_SECRET_KEY_FILE to verify "
                  "the records");
    return r.intact ? EXIT_OK : EXIT_FAIL;
}

static int export_records(cli *c, int argc, char **argv)
{
    const char *from_text = NULL, *to_text = NULL;
    for (int i = 0; i < argc; i++) {
        const char *value;
        if (cli_take_option(argc, argv, &i, "from", &value))
            from_text = value ? value : "";
        else if (cli_take_option(argc, argv, &i, "to", &value))
            to_text = value ? value : "";
        else
            return cli_usage_error("audit", "unexpected argument '%s'", argv[i]);
    }
    pms_date from_day, to_day;
    if (from_text && !cli_parse_date(from_text, &from_day))
        return cli_usage_error("audit", "--from must be a date YYYY-MM-DD");
    if (to_text && !cli_parse_date(to_text, &to_day))
        return cli_usage_error("audit", "--to must be a date YYYY-MM-DD");
    if (from_text && to_text && pms_date_compare(from_day, to_day) > 0)
        return cli_usage_error("audit", "--from must not be after --to");
    /* UTC days; --to is included, so the range ends at the start of the day after it. */
    pms_instant from = from_text ? pms_days_from_date(from_day) * 86400000 : PMS_INSTANT_NONE;
    pms_instant to = to_text ? (pms_days_from_date(to_day) + 1) * 86400000 : PMS_INSTANT_NONE;
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    char resource[96];
    snprintf(resource, sizeof resource, "audit_log?from=%s&to=%s", from_text ? from_text : "",
             to_text ? to_text : "");
    /* The export holds patient ids: it is recorded before anything is written out. */
    if (!cli_audit(c, NULL, "audit.export", resource))
        return EXIT_FAIL;
    pms_error err = {0};
    if (pms_audit_export(st, from, to, stdout, &err) != PMS_OK) {
        cli_report("cannot export the audit log", &err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int reseal(cli *c, int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "--yes") != 0)
        return cli_usage_error("audit", "reseal needs --yes (read 'pmsctl audit --help' first)");
    pms_store *st = cli_store(c);
    if (st == NULL)
        return EXIT_FAIL;
    bool failed = false;
    const pms_keyring *ring = cli_keyring(c, false, &failed);
    if (failed)
        return EXIT_FAIL;
    if (ring == NULL) {
        cli_error("no encryption key: set PMSYNC_SECRET_KEY or PMSYNC_SECRET_KEY_FILE");
        return EXIT_FAIL;
    }
    pms_error err = {0};
    if (pms_audit_reseal(st, ring, &err) != PMS_OK) {
        cli_report("cannot reseal the audit log", &err);
        return EXIT_FAIL;
    }
    pms_audit_report r;
    if (pms_audit_verify(st, ring, &r, &err) != PMS_OK) {
        cli_report("cannot verify the audit log", &err);
        return EXIT_FAIL;
    }
    printf("Resealed: the head now names record %lld (an audit.reseal record says which head it "
           "replaced).\nHead: seq %lld, hash %s.\n",
           r.head.seq, r.head.seq, r.head.hash);
    if (!r.intact)
        printf("Still reported by verify: %s (seq %lld).\n", r.reason, r.first_bad_seq);
    return EXIT_OK;
}

int cmd_audit(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(help_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "verify") == 0)
        return verify(c, argc - 2, argv + 2);
    if (strcmp(sub, "export") == 0)
        return export_records(c, argc - 2, argv + 2);
    if (strcmp(sub, "reseal") == 0)
        return reseal(c, argc - 2, argv + 2);
    return cli_usage_error("audit", "unknown subcommand '%s'", sub);
}
