/* Medirecords appointments: one date-range search for the whole window, page by page (page from
 * 0 until `last`), patients read in parallel (each at most once per sync), interval codes read
 * once per process. scheduleTime is local wall-clock time: the mapper reads it in the
 * practice's zone. */
#include <stdlib.h>
#include <string.h>

#include "adapters/medirecords/medirecords.h"
#include "pmsync/log.h"

#define MAX_PAGES 10000

/* ---- interval codes: once per process and base URL ------------------------------------ */

typedef struct code_table {
    char *base_url;
    json_t *minutes; /* "code" -> minutes */
    struct code_table *next;
} code_table;

static pthread_mutex_t codes_lock = PTHREAD_MUTEX_INITIALIZER;
static code_table *code_tables;

static code_table *table_for(const char *base_url)
{
    for (code_table *t = code_tables; t; t = t->next)
        if (strcmp(t->base_url, base_url) == 0)
            return t;
    return NULL;
}

void pms_medirecords_load_interval_codes(pms_session *s)
{
    pthread_mutex_lock(&codes_lock);
    bool known = table_for(pms_session_base_url(s)) != NULL;
    pthread_mutex_unlock(&codes_lock);
    if (known)
        return;
    const char *path = pms_session_setting(s, "interval_codes_path");
    char *url = pms_session_url(s, path ? path : "/v1/code-system/appointment-interval-code");
    json_t *json = NULL;
    pms_error e = {0};
    int rc = url ? pms_session_get_json(s, NULL, url, &json, &e) : PMS_ERR_NOMEM;
    free(url);
    if (rc != PMS_OK) {
        /* Not cached: the next sync asks again; meanwhile the known codes apply. */
        pms_log(PMS_LOG_WARN, "medirecords.interval_codes_unavailable", "connection",
                pms_session_connection_id(s), "reason", e.message, NULL);
        return;
    }
    json_t *minutes = pms_medirecords_interval_table(json);
    json_decref(json);
    code_table *t = calloc(1, sizeof *t);
    if (t == NULL || minutes == NULL || (t->base_url = strdup(pms_session_base_url(s))) == NULL) {
        free(t);
        json_decref(minutes);
        return;
    }
    t->minutes = minutes;
    pthread_mutex_lock(&codes_lock);
    if (table_for(t->base_url) == NULL) {
        t->next = code_tables;
        code_tables = t;
        t = NULL;
    }
    pthread_mutex_unlock(&codes_lock);
    if (t) {
        json_decref(t->minutes);
        free(t->base_url);
        free(t);
    }
}

int pms_medirecords_interval_lookup(pms_session *s, long code)
{
    char key[24];
    snprintf(key, sizeof key, "%ld", code);
    int minutes = -1;
    pthread_mutex_lock(&codes_lock);
    code_table *t = table_for(pms_session_base_url(s));
    const json_t *v = t ? json_object_get(t->minutes, key) : NULL;
    if (json_is_integer(v))
        minutes = (int)json_integer_value(v);
    pthread_mutex_unlock(&codes_lock);
    return minutes > 0 ? minutes : pms_medirecords_known_interval(code);
}

/* ---- patients: each read once per sync ---------------------------------------------- */

static int read_patient_record(pms_session *s, pms_http_client *client, const char *id,
                               json_t **record, pms_error *err)
{
    char *encoded = pms_url_encode(id);
    char *path = NULL, *url = NULL;
    if (encoded && asprintf(&path, "/v1/patients/%s", encoded) >= 0)
        url = pms_session_url(s, path);
    else
        path = NULL;
    free(encoded);
    free(path);
    int rc = url ? pms_session_get_json(s, client, url, record, err)
                 : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(url);
    return rc;
}

json_t *pms_medirecords_patient_cached(pms_session *s, pms_http_client *client, const char *id,
                                       pms_error *err)
{
    medirecords_state *st = pms_session_state(s);
    return pms_read_once_get(&st->patients, s, client, id, read_patient_record, err);
}

static int lookup_interval(void *ctx, long code);
static const pms_appt_type *lookup_type(void *ctx, const char *type_id);

/* The patients of the page's appointments that the sync keeps (in the window, telehealth when
 * only telehealth is kept), read in parallel: the others are skipped by the engine, so their
 * patients are not read. New object id -> Patient. */
static json_t *page_patients(pms_session *s, const pms_fetch_options *opts, const json_t *items,
                             const medirecords_map_context *ctx)
{
    json_t *wanted = json_object();
    size_t i;
    json_t *appt;
    json_array_foreach(items, i, appt)
    {
        pms_appointment a;
        if (pms_medirecords_map_appointment(appt, ctx, &a, NULL, NULL) != MEDIRECORDS_MAPPED)
            continue;
        bool kept = a.start_time >= opts->from && a.start_time < opts->to &&
                    (!opts->telehealth_only || a.is_telehealth);
        if (kept)
            json_object_set_new(wanted, a.patient.pms_patient_id, json_true());
        pms_appointment_clear(&a);
    }
    medirecords_state *st = pms_session_state(s);
    json_t *found = pms_read_once_all(&st->patients, s, wanted, read_patient_record,
                                      "medirecords.patient_unavailable");
    json_decref(wanted);
    return found;
}

static int lookup_interval(void *ctx, long code)
{
    return pms_medirecords_interval_lookup(ctx, code);
}

static const pms_appt_type *lookup_type(void *ctx, const char *type_id)
{
    return pms_session_appt_type(ctx, type_id);
}

medirecords_map_context pms_medirecords_map_context_of(pms_session *s, const json_t *providers)
{
    medirecords_map_context ctx = {
        .connection_id = pms_session_connection_id(s),
        .timezone = pms_session_tz_name(s),
        .tz = pms_session_tz(s),
        .phone_region = pms_phone_region_for_timezone(pms_session_tz_name(s)),
        .fetched_at = pms_now(),
        .providers = providers,
        .interval_minutes = lookup_interval,
        .type = lookup_type,
        .lookup_ctx = s,
    };
    return ctx;
}

static int emit_page(pms_session *s, const pms_fetch_options *opts, const pms_batch_sink *sink,
                     const json_t *items, const json_t *providers, pms_error *err)
{
    size_t n = json_array_size(items);
    if (n == 0)
        return PMS_OK;
    medirecords_map_context ctx = pms_medirecords_map_context_of(s, providers);
    json_t *patients = opts->without_patients ? json_object() : page_patients(s, opts, items, &ctx);
    pms_appointment *batch = calloc(n, sizeof *batch);
    if (batch == NULL || patients == NULL) {
        free(batch);
        json_decref(patients);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    ctx.patients = patients;
    size_t kept = 0, i;
    json_t *appt;
    int rc = PMS_OK;
    json_array_foreach(items, i, appt)
    {
        const char *id = NULL;
        pms_error e = {0};
        if (pms_medirecords_map_appointment(appt, &ctx, &batch[kept], &id, &e) ==
            MEDIRECORDS_MAPPED) {
            if (batch[kept].start_time >= opts->from && batch[kept].start_time < opts->to)
                kept++;
            else
                pms_appointment_clear(&batch[kept]);
        } else if (e.code == PMS_ERR_NOMEM) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        } else {
            pms_session_emit_invalid(s, sink, id, e.message);
        }
    }
    if (rc == PMS_OK)
        rc = pms_session_emit(s, sink, batch, kept, err);
    for (size_t k = 0; k < kept; k++)
        pms_appointment_clear(&batch[k]);
    free(batch);
    json_decref(patients);
    return rc;
}

int pms_medirecords_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                       const pms_batch_sink *sink, pms_error *err)
{
    pms_medirecords_load_interval_codes(s);
    int rc;
    const json_t *providers = pms_medirecords_providers(s, err, &rc);
    if (rc != PMS_OK)
        return rc;

    /* Local wall-clock bounds, as Medirecords wants them. */
    char start[PMS_TIME_BUFLEN], end[PMS_TIME_BUFLEN];
    const char *range_end = pms_session_setting(s, "range_end");
    bool exclusive = range_end && strcmp(range_end, "exclusive") == 0;
    pms_civil first = {
        opts->first_day.year, opts->first_day.month, opts->first_day.day, 0, 0, 0, 0};
    pms_date after = pms_date_add_days(opts->last_day, 1);
    pms_civil last =
        exclusive
            ? (pms_civil){after.year, after.month, after.day, 0, 0, 0, 0}
            : (pms_civil){
                  opts->last_day.year, opts->last_day.month, opts->last_day.day, 23, 59, 0, 0};
    pms_format_civil_minutes(&first, start);
    pms_format_civil_minutes(&last, end);
    long size = pms_session_setting_long(s, "page_size", 1, 500, 100);
    char *base = pms_medirecords_practice_url(s, "/appointments", err);
    if (base == NULL)
        return err ? (int)err->code : PMS_ERR_CONFIG;

    rc = PMS_OK;
    for (int page = 0;; page++) {
        if (page >= MAX_PAGES) {
            rc = pms_error_set(err, PMS_ERR_UPSTREAM, "Medirecords kept returning pages");
            break;
        }
        char *url = NULL;
        if (asprintf(&url,
                     "%s?appointmentDateRangeStart=%s&appointmentDateRangeEnd=%s&page=%d&size=%ld",
                     base, start, end, page, size) < 0) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
        json_t *json = NULL;
        rc = pms_session_get_json(s, NULL, url, &json, err);
        free(url);
        if (rc != PMS_OK)
            break;
        if (json == NULL) /* 204: no (more) appointments */
            break;
        const json_t *items = pms_medirecords_items(json);
        if (items == NULL) {
            json_decref(json);
            rc = pms_error_set(err, PMS_ERR_PARSE, "Medirecords' appointment page has no data");
            break;
        }
        rc = emit_page(s, opts, sink, items, providers, err);
        const json_t *last_flag = json_object_get(json, "last");
        /* Without a `last` flag a short page ends the list. */
        bool more = json_is_boolean(last_flag) ? json_is_false(last_flag)
                                               : json_array_size(items) >= (size_t)size;
        more = more && json_array_size(items) > 0;
        json_decref(json);
        if (rc != PMS_OK || !more)
            break;
    }
    free(base);
    return rc;
}
