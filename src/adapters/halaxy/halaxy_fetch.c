/* Halaxy appointments: one search covers every practitioner. By default one search per local
 * day (date=eqYYYY-MM-DD, the form used live), or one for the whole window
 * (date=geYYYY-MM-DD&date=leYYYY-MM-DD, standard FHIR but unconfirmed); each search follows the
 * Bundle's next links to the end.
 *
 * Each page is handled in three steps, so that mapping stays free of I/O:
 *   1. read the PractitionerRoles (and their Practitioners) and HealthcareServices the page
 *      refers to, once per sync;
 *   2. map without patients to see which appointments the sync will keep (in the window, of a
 *      practitioner asked for, telehealth when only telehealth is kept) and read their Patients,
 *      once per sync: the rest are skipped by the engine, so their patients are not read;
 *   3. map again with everything read, and hand the page to the sink. */
#include <stdlib.h>
#include <string.h>

#include "adapters/halaxy/halaxy.h"
#include "pmsync/log.h"

#define MAX_DAYS          400
#define DEFAULT_PAGE_SIZE 100
#define MAX_PAGE_SIZE     500

typedef struct sweep {
    const pms_fetch_options *opts;
    const pms_batch_sink *sink;
    json_t *emitted; /* appointment ids already handed to the sink (pages can overlap) */
    json_t *asked;   /* practitioner id -> true; NULL: every practitioner */
    bool stop;       /* the sink failed: no further searches */
} sweep;

static const char *lookup_type_name(void *ctx, const char *type_id)
{
    const pms_appt_type *t = pms_session_appt_type(ctx, type_id);
    return t ? t->name : NULL;
}

static bool lookup_type_telehealth(void *ctx, const char *type_id)
{
    return pms_session_type_is_telehealth(ctx, type_id);
}

halaxy_map_context pms_halaxy_map_context_of(pms_session *s, const json_t *resources)
{
    halaxy_map_context ctx = {
        .connection_id = pms_session_connection_id(s),
        .timezone = pms_session_tz_name(s),
        .phone_region = pms_phone_region_for_timezone(pms_session_tz_name(s)),
        .fetched_at = pms_now(),
        .resources = resources,
        .type_name = lookup_type_name,
        .type_is_telehealth = lookup_type_telehealth,
        .lookup_ctx = s,
    };
    return ctx;
}

/* Reads a set of records ("Type/id" keys) in parallel, each once per sync. */
typedef struct record_reads {
    const char **keys;
} record_reads;

static int read_record(pms_session *s, pms_http_client *client, size_t index, void *arg,
                       pms_error *err)
{
    const record_reads *reads = arg;
    const char *key = reads->keys[index];
    const char *slash = strchr(key, '/');
    char type[64];
    snprintf(type, sizeof type, "%.*s", (int)(slash - key), key);
    return pms_halaxy_resource_cached(s, client, type, slash + 1, NULL, err);
}

static int read_records(pms_session *s, pms_http_client *client, json_t *keys, pms_error *err)
{
    size_t count = json_object_size(keys);
    if (count == 0)
        return PMS_OK;
    record_reads reads = {.keys = calloc(count, sizeof *reads.keys)};
    if (reads.keys == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    size_t n = 0;
    const char *key;
    json_t *unused;
    json_object_foreach(keys, key, unused)
    {
        reads.keys[n++] = key;
    }
    int rc = PMS_OK;
    if (n == 1) {
        rc = read_record(s, client, 0, &reads, err);
    } else {
        int concurrency = (int)pms_session_setting_long(s, "concurrency", 1, 16, 4);
        pms_error first = {0};
        if (pms_session_parallel(s, n, concurrency, read_record, &reads, &first) > 0) {
            rc = first.code != PMS_OK ? (int)first.code : PMS_ERR_UPSTREAM;
            if (err)
                *err = first;
        }
    }
    free(reads.keys);
    return rc;
}

/* Adds "Type/id" to keys unless the sync has read it already. */
static void want_record(halaxy_state *st, json_t *keys, const char *type, const char *id)
{
    char key[HALAXY_KEY_LEN];
    snprintf(key, sizeof key, "%s/%s", type, id);
    if (json_object_get(st->resources, key) == NULL)
        json_object_set_new(keys, key, json_true());
}

/* Step 1: the PractitionerRoles (then the Practitioners they point to) and HealthcareServices of
 * a page, the page's distinct unread ones in parallel. */
static int resolve_providers(pms_session *s, pms_http_client *client, const json_t *appointments,
                             pms_error *err)
{
    halaxy_state *st = pms_session_state(s);
    json_t *first = json_object(), *second = json_object();
    if (first == NULL || second == NULL) {
        json_decref(first);
        json_decref(second);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    size_t i;
    json_t *appt;
    pthread_mutex_lock(&st->lock);
    json_array_foreach(appointments, i, appt)
    {
        halaxy_appt_refs refs;
        if (pms_halaxy_appointment_refs(appt, &refs, NULL) != PMS_OK)
            continue; /* malformed: the mapper says why */
        if (refs.has_provider)
            want_record(st, first, refs.provider.type, refs.provider.id);
        if (refs.has_service)
            want_record(st, first, "HealthcareService", refs.service.id);
    }
    pthread_mutex_unlock(&st->lock);
    int rc = read_records(s, client, first, err);

    /* The Practitioners behind the roles (usually listed already). */
    if (rc == PMS_OK) {
        pthread_mutex_lock(&st->lock);
        json_array_foreach(appointments, i, appt)
        {
            halaxy_appt_refs refs;
            if (pms_halaxy_appointment_refs(appt, &refs, NULL) != PMS_OK || !refs.has_provider ||
                strcmp(refs.provider.type, "PractitionerRole") != 0)
                continue;
            char key[HALAXY_KEY_LEN];
            pms_halaxy_ref_key(&refs.provider, key);
            const json_t *role = json_object_get(st->resources, key);
            halaxy_ref practitioner;
            if (json_is_object(role) && pms_halaxy_role_practitioner(role, &practitioner) == PMS_OK)
                want_record(st, second, "Practitioner", practitioner.id);
        }
        pthread_mutex_unlock(&st->lock);
        rc = read_records(s, client, second, err);
    }
    json_decref(first);
    json_decref(second);
    return rc;
}

/* Whether the sync keeps a mapped appointment (the engine decides again; this only saves
 * reading patients it would skip). */
static bool kept_by_sync(const sweep *sw, const pms_appointment *a)
{
    if (a->start_time < sw->opts->from || a->start_time >= sw->opts->to)
        return false;
    if (sw->opts->telehealth_only && !a->is_telehealth)
        return false;
    return sw->asked == NULL || json_object_get(sw->asked, a->practitioner.pms_practitioner_id);
}

typedef struct patient_reads {
    const char **ids;
} patient_reads;

static int read_patient(pms_session *s, pms_http_client *client, size_t index, void *arg,
                        pms_error *err)
{
    const patient_reads *reads = arg;
    return pms_halaxy_resource_cached(s, client, "Patient", reads->ids[index], NULL, err);
}

/* Step 2: the Patients of the appointments the sync keeps. */
static int resolve_patients(pms_session *s, pms_http_client *client, const sweep *sw,
                            const json_t *appointments, pms_error *err)
{
    halaxy_state *st = pms_session_state(s);
    json_t *needed = json_object(); /* patient id -> true */
    if (needed == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&st->lock);
    halaxy_map_context ctx = pms_halaxy_map_context_of(s, st->resources);
    size_t i;
    json_t *appt;
    json_array_foreach(appointments, i, appt)
    {
        pms_appointment a;
        pms_error e = {0};
        halaxy_appt_refs refs;
        if (pms_halaxy_map_appointment(appt, &ctx, &a, NULL, &e) == HALAXY_MAPPED &&
            kept_by_sync(sw, &a) && pms_halaxy_appointment_refs(appt, &refs, NULL) == PMS_OK) {
            char key[HALAXY_KEY_LEN];
            pms_halaxy_ref_key(&refs.patient, key);
            if (json_object_get(st->resources, key) == NULL)
                json_object_set_new(needed, refs.patient.id, json_true());
        }
        pms_appointment_clear(&a);
    }
    pthread_mutex_unlock(&st->lock);

    /* The page's patients are distinct: read them in parallel, each once per sync. */
    patient_reads reads = {.ids = calloc(json_object_size(needed) + 1, sizeof *reads.ids)};
    size_t count = 0;
    const char *patient_id;
    json_t *unused;
    json_object_foreach(needed, patient_id, unused)
    {
        if (reads.ids)
            reads.ids[count++] = patient_id;
    }
    int rc = PMS_OK;
    if (reads.ids == NULL && json_object_size(needed) > 0) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    } else if (count == 1) {
        rc = pms_halaxy_resource_cached(s, client, "Patient", reads.ids[0], NULL, err);
    } else if (count > 1) {
        int concurrency = (int)pms_session_setting_long(s, "concurrency", 1, 16, 4);
        pms_error first = {0};
        if (pms_session_parallel(s, count, concurrency, read_patient, &reads, &first) > 0) {
            rc = first.code != PMS_OK ? (int)first.code : PMS_ERR_UPSTREAM;
            if (err)
                *err = first;
        }
    }
    free(reads.ids);
    json_decref(needed);
    return rc;
}

typedef struct mapped_result {
    halaxy_map_outcome outcome;
    bool report;    /* skipped or invalid: tell the sink */
    const char *id; /* borrowed from the page */
    char reason[sizeof((pms_error *)0)->message];
} mapped_result;

/* Step 3: maps the page and hands it to the sink. */
static int emit_page(pms_session *s, sweep *sw, const json_t *appointments, pms_error *err)
{
    halaxy_state *st = pms_session_state(s);
    size_t n = json_array_size(appointments);
    pms_appointment *batch = calloc(n, sizeof *batch);
    mapped_result *results = calloc(n, sizeof *results);
    if (batch == NULL || results == NULL) {
        free(batch);
        free(results);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    size_t kept = 0, i;
    json_t *appt;
    int rc = PMS_OK;
    pthread_mutex_lock(&st->lock);
    halaxy_map_context ctx = pms_halaxy_map_context_of(s, st->resources);
    json_array_foreach(appointments, i, appt)
    {
        pms_error e = {0};
        mapped_result *r = &results[i];
        r->outcome = pms_halaxy_map_appointment(appt, &ctx, &batch[kept], &r->id, &e);
        if (r->outcome == HALAXY_MAPPED) {
            const pms_appointment *a = &batch[kept];
            /* Keep exactly [from, to): a day search follows Halaxy's idea of the day. */
            if (a->start_time >= sw->opts->from && a->start_time < sw->opts->to &&
                json_object_get(sw->emitted, a->pms_appointment_id) == NULL &&
                json_object_set_new(sw->emitted, a->pms_appointment_id, json_true()) == 0)
                kept++;
            else
                pms_appointment_clear(&batch[kept]);
        } else if (e.code == PMS_ERR_NOMEM) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        } else {
            r->report = true;
            snprintf(r->reason, sizeof r->reason, "%s", e.message);
        }
    }
    pthread_mutex_unlock(&st->lock);
    for (i = 0; rc == PMS_OK && i < n; i++) {
        if (!results[i].report)
            continue;
        if (results[i].outcome == HALAXY_SKIP)
            pms_session_emit_skipped(s, sw->sink, results[i].id, results[i].reason);
        else
            pms_session_emit_invalid(s, sw->sink, results[i].id, results[i].reason);
    }
    if (rc == PMS_OK && (rc = pms_session_emit(s, sw->sink, batch, kept, err)) != PMS_OK)
        sw->stop = true;
    for (size_t k = 0; k < kept; k++)
        pms_appointment_clear(&batch[k]);
    free(batch);
    free(results);
    return rc;
}

static int on_page(pms_session *s, pms_http_client *client, const json_t *bundle, void *arg,
                   pms_error *err)
{
    sweep *sw = arg;
    json_t *appointments = json_array();
    if (appointments == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    size_t i;
    json_t *entry;
    int rc = PMS_OK;
    json_array_foreach(json_object_get(bundle, "entry"), i, entry)
    {
        /* Other entries (an OperationOutcome with search mode "outcome", included resources)
         * are not appointments. */
        const json_t *resource = pms_halaxy_entry_resource(entry, "Appointment");
        if (resource && json_array_append(appointments, (json_t *)resource) != 0) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
    }
    if (rc == PMS_OK && json_array_size(appointments) > 0) {
        rc = resolve_providers(s, client, appointments, err);
        if (rc == PMS_OK && !sw->opts->without_patients)
            rc = resolve_patients(s, client, sw, appointments, err);
        if (rc == PMS_OK)
            rc = emit_page(s, sw, appointments, err);
    }
    json_decref(appointments);
    return rc;
}

/* Failures after which the other searches of the window are still worth making. */
static bool worth_going_on(int rc)
{
    return rc == PMS_ERR_UPSTREAM || rc == PMS_ERR_PARSE || rc == PMS_ERR_NOT_FOUND ||
           rc == PMS_ERR_HTTP || rc == PMS_ERR_INVALID || rc == PMS_ERR_CONFLICT;
}

static int read_window(pms_session *s, const pms_fetch_options *opts, pms_date *first,
                       pms_date *last, pms_error *err)
{
    *first = opts->first_day;
    *last = opts->last_day;
    if (!pms_date_valid(*first) || !pms_date_valid(*last)) {
        if (opts->to <= opts->from)
            return pms_error_set(err, PMS_ERR_INVALID, "the appointment window is empty");
        *first = pms_tz_date_of(pms_session_tz(s), opts->from);
        *last = pms_tz_date_of(pms_session_tz(s), opts->to - 1);
    }
    if (pms_date_compare(*first, *last) > 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "the appointment window's last day is before its first");
    if (pms_days_from_date(*last) - pms_days_from_date(*first) >= MAX_DAYS)
        return pms_error_set(err, PMS_ERR_INVALID, "the appointment window covers over %d days",
                             MAX_DAYS);
    return PMS_OK;
}

static char *search_url(pms_session *s, bool per_day, pms_date day, pms_date last, int page_size)
{
    char from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN];
    pms_date_format(day, from);
    pms_date_format(last, to);
    char *path = NULL;
    int n = per_day ? asprintf(&path, "/main/Appointment?date=eq%s&_count=%d", from, page_size)
                    : asprintf(&path, "/main/Appointment?date=ge%s&date=le%s&_count=%d", from, to,
                               page_size);
    if (n < 0)
        return NULL;
    char *url = pms_session_url(s, path);
    free(path);
    return url;
}

int pms_halaxy_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                  const pms_batch_sink *sink, pms_error *err)
{
    const char *mode = pms_session_setting(s, "date_query");
    bool per_day = mode == NULL || strcmp(mode, "per_day") == 0;
    if (!per_day && strcmp(mode, "range") != 0)
        return pms_error_set(err, PMS_ERR_CONFIG,
                             "the Halaxy setting date_query must be per_day or range");
    pms_date first, last;
    int rc = read_window(s, opts, &first, &last, err);
    if (rc != PMS_OK)
        return rc;
    int page_size =
        opts->page_size > 0
            ? opts->page_size
            : (int)pms_session_setting_long(s, "page_size", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE);
    if (page_size > MAX_PAGE_SIZE)
        page_size = MAX_PAGE_SIZE;

    sweep sw = {.opts = opts, .sink = sink, .emitted = json_object()};
    if (sw.emitted == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (opts->practitioner_ids != NULL) {
        if ((sw.asked = json_object()) == NULL) {
            json_decref(sw.emitted);
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < opts->practitioner_count; i++)
            if (opts->practitioner_ids[i])
                json_object_set_new(sw.asked, opts->practitioner_ids[i], json_true());
    }

    size_t searches =
        per_day ? (size_t)(pms_days_from_date(last) - pms_days_from_date(first)) + 1 : 1;
    size_t done = 0, failed = 0;
    pms_error first_err = {0};
    for (size_t i = 0; i < searches; i++) {
        char *url = search_url(s, per_day, pms_date_add_days(first, (int64_t)i), last, page_size);
        pms_error e = {0};
        int search_rc =
            url ? pms_halaxy_walk_bundle(s, NULL, url, "appointment search", on_page, &sw, &e)
                : pms_error_set(&e, PMS_ERR_NOMEM, "out of memory");
        free(url);
        done++;
        if (search_rc == PMS_OK)
            continue;
        if (failed++ == 0)
            first_err = e;
        if (sw.stop || !worth_going_on(search_rc))
            break;
    }
    if (failed > 0) {
        rc = first_err.code != PMS_OK ? (int)first_err.code : PMS_ERR_UPSTREAM;
        if (err) {
            *err = first_err;
            if (searches > 1)
                pms_error_prefix(err, "%zu of %zu days could not be read",
                                 failed + (searches - done), searches);
        }
    }
    json_decref(sw.emitted);
    json_decref(sw.asked);
    return rc;
}
