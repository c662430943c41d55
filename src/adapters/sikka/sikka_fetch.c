/* Sikka reads: appointments for the window (startdate/enddate in the practice's local dates,
 * page by page; or, for an incremental sync, those changed since an instant, by
 * date_filter_on=last_changed_date), providers, patients (/patients?patient_id=, read in
 * parallel and at most once per sync), one appointment (?appointment_sr_no=) and patient
 * search. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/sikka/sikka.h"
#include "pmsync/log.h"

#define MAX_PAGES 10000

/* "practice_id=1&" + more (URL-encoded values given by the caller). Caller frees. */
static char *practice_query(pms_session *s, const char *more)
{
    const char *practice = pms_session_setting(s, "practice_id");
    char *encoded = pms_url_encode(practice ? practice : "");
    char *q = NULL;
    if (encoded == NULL ||
        asprintf(&q, "practice_id=%s%s%s", encoded, more ? "&" : "", more ? more : "") < 0)
        q = NULL;
    free(encoded);
    return q;
}

int pms_sikka_providers(pms_session *s, json_t **by_id, pms_error *err)
{
    *by_id = json_object();
    char *q = practice_query(s, NULL);
    json_t *items = NULL;
    int rc = q ? pms_sikka_get_all(s, NULL, "/providers", q, 0, &items, err)
               : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(q);
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        const char *id = json_string_value(json_object_get(item, "provider_id"));
        if (id)
            json_object_set(*by_id, id, item);
    }
    json_decref(items);
    return rc;
}

/* ---- patients: each read once per sync --------------------------------------------- */

/* There is no /patients/{id}: the list filtered by patient_id. */
static int read_patient_record(pms_session *s, pms_http_client *client, const char *id,
                               json_t **record, pms_error *err)
{
    char *encoded = pms_url_encode(id), *more = NULL, *q = NULL, *url = NULL;
    if (encoded && asprintf(&more, "patient_id=%s", encoded) >= 0 &&
        (q = practice_query(s, more)) != NULL)
        url = pms_sikka_url(s, "/patients", q);
    free(encoded);
    free(more);
    free(q);
    json_t *page = NULL;
    int rc = url ? pms_sikka_get(s, client, url, &page, err)
                 : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(url);
    if (rc == PMS_OK) {
        *record = json_incref(json_array_get(json_object_get(page, "items"), 0));
        if (*record == NULL)
            rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "Sikka has no such patient");
    }
    json_decref(page);
    return rc;
}

static json_t *patient_cached(pms_session *s, pms_http_client *client, const char *id,
                              pms_error *err)
{
    sikka_state *st = pms_session_state(s);
    return pms_read_once_get(&st->patients, s, client, id, read_patient_record, err);
}

static bool incremental(const pms_fetch_options *opts)
{
    return opts->changed_since != PMS_INSTANT_NONE && opts->changed_since > 0;
}

/* An appointment the fetch hands on: it starts in the window and, in an incremental read, was
 * changed at or after changed_since (last_changed_date is in the practice's zone, read as an
 * instant there; a record without one is kept). */
static bool kept_by_fetch(const pms_fetch_options *opts, const pms_appointment *a)
{
    if (a->start_time < opts->from || a->start_time >= opts->to)
        return false;
    return !incremental(opts) || a->pms_updated_at == PMS_INSTANT_NONE ||
           a->pms_updated_at >= opts->changed_since;
}

/* Patients of the page's appointments that the sync keeps, read in parallel. */
static json_t *page_patients(pms_session *s, const pms_fetch_options *opts, const json_t *items,
                             const sikka_map_context *ctx)
{
    json_t *wanted = json_object();
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        pms_appointment a;
        if (pms_sikka_map_appointment(item, ctx, &a, NULL, NULL) != PMS_OK)
            continue;
        if (kept_by_fetch(opts, &a) && (!opts->telehealth_only || a.is_telehealth))
            json_object_set_new(wanted, a.patient.pms_patient_id, json_true());
        pms_appointment_clear(&a);
    }
    sikka_state *st = pms_session_state(s);
    json_t *found = pms_read_once_all(&st->patients, s, wanted, read_patient_record,
                                      "sikka.patient_unavailable");
    json_decref(wanted);
    return found;
}

static sikka_map_context map_context(pms_session *s, const json_t *providers)
{
    return (sikka_map_context){
        .connection_id = pms_session_connection_id(s),
        .timezone = pms_session_tz_name(s),
        .tz = pms_session_tz(s),
        .phone_region = pms_phone_region_for_timezone(pms_session_tz_name(s)),
        .fetched_at = pms_now(),
        .providers = providers,
        .session = s,
    };
}

static void count_unknown_status(pms_session *s, const json_t *item)
{
    pms_appt_status ignored;
    const char *word = json_string_value(json_object_get(item, "status"));
    if (word && word[0] && !pms_sikka_status(word, &ignored)) {
        sikka_state *st = pms_session_state(s);
        pthread_mutex_lock(&st->lock);
        st->unknown_statuses++;
        pthread_mutex_unlock(&st->lock);
    }
}

static int emit_page(pms_session *s, const pms_fetch_options *opts, const pms_batch_sink *sink,
                     const json_t *items, const json_t *providers, pms_error *err)
{
    size_t n = json_array_size(items);
    if (n == 0)
        return PMS_OK;
    sikka_map_context ctx = map_context(s, providers);
    json_t *patients = opts->without_patients ? json_object() : page_patients(s, opts, items, &ctx);
    pms_appointment *batch = calloc(n, sizeof *batch);
    if (batch == NULL || patients == NULL) {
        free(batch);
        json_decref(patients);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    ctx.patients = patients;
    size_t kept = 0, i;
    json_t *item;
    int rc = PMS_OK;
    json_array_foreach(items, i, item)
    {
        const char *id = NULL;
        pms_error e = {0};
        if (pms_sikka_map_appointment(item, &ctx, &batch[kept], &id, &e) == PMS_OK) {
            count_unknown_status(s, item);
            if (kept_by_fetch(opts, &batch[kept]))
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

int pms_sikka_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                 const pms_batch_sink *sink, pms_error *err)
{
    json_t *providers = NULL;
    int rc = pms_sikka_providers(s, &providers, err);
    if (rc != PMS_OK) {
        json_decref(providers);
        return rc;
    }
    /* A full sweep asks for the window's days; an incremental read for the days on which
     * records changed: from the practice's date of changed_since (a day earlier, for a PMS
     * clock behind ours) to its today. What changed after today's end is read by the next
     * sync, whose changed_since is before this one's start. */
    char first[PMS_TIME_BUFLEN], last[PMS_TIME_BUFLEN];
    const char *filter = "date";
    if (incremental(opts)) {
        const pms_tz *tz = pms_session_tz(s);
        pms_date_format(pms_date_add_days(pms_tz_date_of(tz, opts->changed_since), -1), first);
        pms_date_format(pms_tz_date_of(tz, pms_now()), last);
        filter = "last_changed_date";
    } else {
        pms_date_format(opts->first_day, first);
        pms_date_format(opts->last_day, last);
    }
    long limit = opts->page_size > 0 ? opts->page_size
                                     : pms_session_setting_long(s, "page_size", 1, 5000, 500);
    for (int page = 0;; page++) {
        if (page >= MAX_PAGES) {
            rc = pms_error_set(err, PMS_ERR_UPSTREAM, "Sikka kept returning pages");
            break;
        }
        char *more = NULL, *q = NULL, *url = NULL;
        if (asprintf(&more,
                     "startdate=%s&enddate=%s&date_filter_on=%s&fields=operatory,"
                     "last_changed_date&offset=%d&limit=%ld",
                     first, last, filter, page, limit) >= 0 &&
            (q = practice_query(s, more)) != NULL)
            url = pms_sikka_url(s, "/appointments", q);
        free(more);
        free(q);
        json_t *json = NULL;
        rc = url ? pms_sikka_get(s, NULL, url, &json, err)
                 : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        free(url);
        if (rc != PMS_OK || json == NULL) /* 204: no (more) appointments */
            break;
        const json_t *items = json_object_get(json, "items");
        if (!json_is_array(items)) {
            json_decref(json);
            rc = pms_error_set(err, PMS_ERR_PARSE, "Sikka's appointment page has no items");
            break;
        }
        rc = emit_page(s, opts, sink, items, providers, err);
        const json_t *next = json_object_get(json_object_get(json, "pagination"), "next");
        bool again =
            json_is_string(next) && json_string_length(next) > 0 && json_array_size(items) > 0;
        json_decref(json);
        if (rc != PMS_OK || !again)
            break;
    }
    json_decref(providers);
    return rc;
}

int pms_sikka_fetch_patient(pms_session *s, const char *patient_id, pms_patient *out,
                            pms_error *err)
{
    json_t *json = patient_cached(s, NULL, patient_id, err);
    if (json == NULL)
        return err ? (int)err->code : PMS_ERR_NOT_FOUND;
    int rc = pms_sikka_map_patient(json, pms_phone_region_for_timezone(pms_session_tz_name(s)), out,
                                   err);
    json_decref(json);
    return rc;
}

int pms_sikka_get_appointment(pms_session *s, const char *id, pms_appointment *out, pms_error *err)
{
    pms_appointment_init(out);
    char *encoded = pms_url_encode(id), *more = NULL, *q = NULL, *url = NULL;
    if (encoded &&
        asprintf(&more, "appointment_sr_no=%s&fields=operatory,last_changed_date", encoded) >= 0 &&
        (q = practice_query(s, more)) != NULL)
        url = pms_sikka_url(s, "/appointments", q);
    free(encoded);
    free(more);
    free(q);
    json_t *page = NULL;
    int rc = url ? pms_sikka_get(s, NULL, url, &page, err)
                 : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(url);
    const json_t *item = json_array_get(json_object_get(page, "items"), 0);
    if (rc == PMS_OK && item == NULL)
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "Sikka has no appointment %.40s", id);
    if (rc == PMS_OK) {
        sikka_map_context ctx = map_context(s, NULL);
        rc = pms_sikka_map_appointment(item, &ctx, out, NULL, err);
    }
    json_decref(page);
    return rc;
}

static void add_param(char **query, const char *key, const char *value)
{
    if (value == NULL || value[0] == '\0' || *query == NULL)
        return;
    char *encoded = pms_url_encode(value), *grown = NULL;
    if (encoded == NULL || asprintf(&grown, "%s&%s=%s", *query, key, encoded) < 0)
        grown = NULL;
    free(encoded);
    free(*query);
    *query = grown;
}

int pms_sikka_search_patients(pms_session *s, const pms_patient_query *q, pms_patient_list *out,
                              pms_error *err)
{
    memset(out, 0, sizeof *out);
    char *query = practice_query(s, NULL);
    add_param(&query, "firstname", q->given_name);
    add_param(&query, "lastname", q->family_name);
    add_param(&query, "email", q->email);
    if (q->phone) {
        /* Sikka stores cells as xxx-xxx-xxxx: search by the last ten digits. */
        char digits[32], cell[16];
        size_t n = 0;
        for (const char *p = q->phone; *p && n < sizeof digits - 1; p++)
            if (*p >= '0' && *p <= '9')
                digits[n++] = *p;
        digits[n] = '\0';
        if (n >= 10) {
            const char *ten = digits + n - 10;
            snprintf(cell, sizeof cell, "%.3s-%.3s-%.4s", ten, ten + 3, ten + 6);
            add_param(&query, "cell", cell);
        }
    }
    if (query == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    json_t *items = NULL;
    int rc = pms_sikka_get_all(s, NULL, "/patients", query, 0, &items, err);
    free(query);
    pms_phone_region region = pms_phone_region_for_timezone(pms_session_tz_name(s));
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (rc != PMS_OK)
            break;
        pms_patient p;
        if (pms_sikka_map_patient(item, region, &p, NULL) != PMS_OK)
            continue;
        if (q->has_date_of_birth &&
            (!p.has_date_of_birth || pms_date_compare(p.date_of_birth, q->date_of_birth) != 0)) {
            pms_patient_clear(&p);
            continue;
        }
        pms_patient *grown = realloc(out->items, (out->count + 1) * sizeof *grown);
        if (grown == NULL) {
            pms_patient_clear(&p);
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
        out->items = grown;
        out->items[out->count++] = p;
    }
    json_decref(items);
    if (rc != PMS_OK)
        pms_patient_list_clear(out);
    return rc;
}
